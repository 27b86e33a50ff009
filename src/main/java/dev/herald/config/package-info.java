/** Herald's configuration: the immutable config object, and loading it from YAML, environment and flags. */
package dev.herald.config;
