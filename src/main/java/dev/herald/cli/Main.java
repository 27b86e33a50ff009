package dev.herald.cli;

import ch.qos.logback.classic.Level;
import dev.herald.config.ConfigException;
import dev.herald.config.ConfigLoader;
import dev.herald.config.HeraldConfig;
import dev.herald.config.Setting;
import dev.herald.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The {@code herald} command. {@code herald} alone serves the built-in default app, {@code herald serve DIR}
 * serves a folder. Every option of {@link Settings} is a flag (before or after {@code serve}), and
 * {@code herald --help} lists them with their defaults.
 *
 * <p>Exit codes: 0 after a graceful shutdown (SIGTERM, SIGHUP, Ctrl-C); 2 for an invalid flag or value, a
 * certificate or key Herald cannot serve, an address it cannot listen on (a port in use), or a root, data-dir or
 * learned-push file Herald cannot use (or a data-dir another Herald holds); 1 when the server cannot start for
 * another reason. Errors are reported as one line {@code herald: <message>} on stderr.
 */
public final class Main {
    static final int OK = 0;
    static final int START_FAILED = 1;
    static final int USAGE = 2;

    static final String SPKI_LINE =
            "TLS certificate SPKI sha256 (for chromium --ignore-certificate-errors-spki-list): ";

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final String CONFIG = "--config";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.getenv(), Path.of(""), System.out, System.err, new HeraldLauncher()));
    }

    /**
     * Runs {@code herald args}: parses the flags, loads the configuration ({@code herald.yaml} in
     * {@code workingDir}, then {@code env}, then the flags), starts the server with {@code launcher}, prints where
     * it listens and waits until it is shut down. Returns the exit code.
     */
    static int execute(String[] args, Map<String, String> env, Path workingDir, PrintStream out, PrintStream err,
            ServerLauncher launcher) {
        CommandLine cli = commandLine(out, err);
        ParseResult parsed;
        try {
            parsed = cli.parseArgs(args);
        } catch (ParameterException e) {
            err.println("herald: " + usageError(e));
            return USAGE;
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            return OK;
        }

        HeraldConfig config;
        try {
            config = load(parsed, env, workingDir);
        } catch (ConfigException e) {
            err.println("herald: " + e.getMessage());
            return USAGE;
        }
        if (config.verbose()
                && LoggerFactory.getLogger("dev.herald") instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(Level.DEBUG);
        }

        ServerLauncher.Running server;
        try {
            server = launcher.start(config);
        } catch (ConfigException e) {
            err.println("herald: " + e.getMessage());
            return USAGE;
        } catch (Exception e) {
            LOG.debug("start failed", e);
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            err.println("herald: " + message.lines().findFirst().orElse(message));
            return START_FAILED;
        }
        server.urls().forEach(url -> out.println("Herald listening on " + url));
        server.spkiSha256().ifPresent(spki -> out.println(SPKI_LINE + spki));
        out.flush();
        server.awaitClosed();
        return OK;
    }

    /** Plain text as a picocli description, which is a format string: a bare {@code %} would make it warn. */
    private static String literal(String text) {
        return text.replace("%", "%%");
    }

    /** {@code herald} and its {@code serve} subcommand, with one option per setting, inherited by {@code serve}. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandSpec herald = CommandSpec.create().name("herald").version("herald " + version())
                .mixinStandardHelpOptions(true);
        herald.usageMessage()
                .description("An HTTP/2 server: server push done right, and realtime over long-running streams.",
                        "Without a command it serves the built-in default app.")
                .sortOptions(false)
                .abbreviateSynopsis(true)
                .autoWidth(true)
                .footer("", "Every option can also be set in herald.yaml (nested keys, such as http2: then "
                        + "max-concurrent-streams: 64) or as an environment variable (HERALD_ and the key, such as "
                        + "HERALD_HTTP2_MAX_CONCURRENT_STREAMS). Flags win over the environment, which wins over "
                        + "herald.yaml. Sizes take k, m or g (KiB, MiB, GiB); durations ms, s, m or h.");
        herald.addOption(OptionSpec.builder(CONFIG).paramLabel("<file>").type(String.class)
                .scopeType(ScopeType.INHERIT)
                .description("YAML configuration file, which must exist.",
                        "Default: " + ConfigLoader.DEFAULT_FILE + " in the working directory, if there is one.")
                .build());
        for (Setting setting : Settings.all()) {
            OptionSpec.Builder option = OptionSpec.builder(setting.flags().toArray(String[]::new))
                    .userObject(setting)
                    .scopeType(ScopeType.INHERIT)
                    .description(literal(setting.description()),
                            literal("Default: " + setting.defaultValue().orElse("unset") + "; env " + setting.envVar()));
            if (setting.isBoolean()) {
                option.type(boolean.class).arity("0..1").paramLabel("true|false");
            } else {
                option.type(String.class).paramLabel(setting.paramLabel());
            }
            herald.addOption(option.build());
        }

        CommandSpec serve = CommandSpec.create().name("serve").version(herald.version())
                .mixinStandardHelpOptions(true);
        serve.usageMessage().description("Serves the files in DIR.").sortOptions(false).autoWidth(true)
                .abbreviateSynopsis(true);
        serve.addPositional(PositionalParamSpec.builder().paramLabel("DIR").arity("1").required(true)
                .type(String.class).description("The folder to serve (sets root, so not together with --root).").build());
        herald.addSubcommand("serve", serve);

        CommandLine cli = new CommandLine(herald);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli;
    }

    /** The flags given, top-level first and then after {@code serve}, then the folder {@code serve} names. */
    private static HeraldConfig load(ParseResult parsed, Map<String, String> env, Path workingDir) {
        Map<String, String> flags = new LinkedHashMap<>();
        String configFile = null;
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            for (OptionSpec option : level.matchedOptions()) {
                if (option.userObject() instanceof Setting setting) {
                    Object value = option.getValue(); // a String, or a Boolean for switches
                    flags.put(setting.key(), String.valueOf(value));
                } else if (option.longestName().equals(CONFIG)) {
                    configFile = option.getValue();
                }
            }
            if (level.commandSpec().name().equals("serve")) {
                String dir = level.matchedPositional(0).getValue();
                if (flags.containsKey("root")) {
                    throw new ConfigException("root: --root " + flags.get("root") + " and serve " + dir
                            + " both name the folder to serve (expected: one of them)");
                }
                flags.put("root", dir);
            }
        }
        return ConfigLoader.create()
                .workingDir(workingDir)
                .configFile(configFile == null ? null : Path.of(configFile))
                .env(env)
                .flags(flags)
                .load();
    }

    /** Picocli's message, one line, with its suggestion when there is one. */
    private static String usageError(ParameterException e) {
        String message = e.getMessage().lines().findFirst().orElse("invalid arguments");
        if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            return message + " (did you mean " + u.getSuggestions().get(0) + "?)";
        }
        return message + " (see herald --help)";
    }

    /** The version Maven wrote into {@code version.properties}. */
    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/dev/herald/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
