/** Static files: safe path resolution, validators, conditional and range requests, precompressed siblings. */
package dev.herald.files;
