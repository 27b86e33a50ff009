/** The {@code herald} command line: flags built from the settings registry, {@code serve DIR}, signals. */
package dev.herald.cli;
