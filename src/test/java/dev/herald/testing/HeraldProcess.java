package dev.herald.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The packaged {@code herald.jar} run as a user runs it, in its own JVM. */
public final class HeraldProcess implements AutoCloseable {
    private static final Pattern URL = Pattern.compile("(https?)://[^:/]+:(\\d+)/");
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final List<Thread> pumps = new CopyOnWriteArrayList<>();

    private HeraldProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), stdout, true);
        pump(process.getErrorStream(), stderr, false);
    }

    /** The jar built by {@code package}; failsafe passes its path. */
    public static Path jar() {
        String jar = System.getProperty("herald.jar", "target/herald.jar");
        return Path.of(jar);
    }

    /** Starts {@code java [jvmArgs] -jar herald.jar [args]}. */
    public static HeraldProcess start(List<String> jvmArgs, String... args) throws IOException {
        return start(List.of(), jvmArgs, jar(), args);
    }

    /**
     * Starts {@code java -jar herald.jar [args]} as a user without privileges, for tests of permissions (root
     * reads and writes any file): as nobody through {@code setpriv} when the tests run as root, else as is. The
     * files the test hands Herald must be reachable by that user; the jar is copied where they are.
     */
    public static HeraldProcess startUnprivileged(String... args) throws IOException {
        if (!((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).equals(0)) {
            return start(List.of(), List.of(), jar(), args);
        }
        return start(List.of(ExternalTool.require("setpriv", "util-linux").toString(), "--reuid=65534",
                "--regid=65534", "--clear-groups"), List.of(), readableJar(), args);
    }

    /**
     * Starts {@code prefix... java -jar herald.jar [args]}: a command that runs the JVM somewhere else, such as
     * {@code ip netns exec NAME}.
     */
    public static HeraldProcess startWith(List<String> prefix, String... args) throws IOException {
        return start(prefix, List.of(), jar(), args);
    }

    private static Path readableJar;

    /** The jar, copied once to a folder every user may read (the build's folder may be under a private home). */
    private static synchronized Path readableJar() throws IOException {
        if (readableJar == null) {
            Path dir = Files.createTempDirectory("herald-jar");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path copy = Files.copy(jar(), dir.resolve("herald.jar"));
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
            copy.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            readableJar = copy;
        }
        return readableJar;
    }

    private static HeraldProcess start(List<String> prefix, List<String> jvmArgs, Path jar, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(args));
        return new HeraldProcess(new ProcessBuilder(cmd).start());
    }

    private void pump(java.io.InputStream in, List<String> sink, boolean queue) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.add(line);
                    if (queue) {
                        lines.add(line); // wakes awaitLine
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "herald-process-output");
        t.setDaemon(true);
        t.start();
        pumps.add(t);
    }

    /** Waits for the stdout line announcing a listener of this scheme and returns its port. */
    public int awaitPort(String scheme, long timeoutSeconds) throws InterruptedException {
        Matcher m = URL.matcher(awaitLine(l -> {
            Matcher u = URL.matcher(l);
            return u.find() && u.group(1).equals(scheme);
        }, "a " + scheme + " URL", timeoutSeconds));
        m.find();
        return Integer.parseInt(m.group(2));
    }

    /** Waits for a stdout line matching the predicate (already printed or still to come) and returns it. */
    public String awaitLine(java.util.function.Predicate<String> wanted, String what, long timeoutSeconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            for (String seen : stdout) {
                if (wanted.test(seen)) {
                    return seen;
                }
            }
            if (lines.poll(100, TimeUnit.MILLISECONDS) == null && !process.isAlive()) {
                break;
            }
        }
        throw new AssertionError("Herald did not print " + what + "; " + this);
    }

    /** SIGTERM, then the exit code (killing it after the timeout). */
    public int terminate(long timeoutSeconds) throws InterruptedException {
        process.destroy(); // SIGTERM on Linux
        return waitFor(timeoutSeconds);
    }

    /** Sends a signal by name ({@code HUP}) with {@code kill}. */
    public void signal(String name) throws IOException, InterruptedException {
        ExternalTool.Result kill = ExternalTool.run(10, "kill", "-" + name, Long.toString(process.pid()));
        if (kill.exitCode() != 0) {
            throw new AssertionError("kill -" + name + " failed: " + kill);
        }
    }

    /** SIGKILL, as a crash would end it, then waits for the exit. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    public long pid() {
        return process.pid();
    }

    public int waitFor(long timeoutSeconds) throws InterruptedException {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("Herald did not exit within " + timeoutSeconds + " s; " + this);
        }
        for (Thread pump : pumps) {
            pump.join(TimeUnit.SECONDS.toMillis(timeoutSeconds)); // the last lines, written just before the exit
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public List<String> stdout() {
        return stdout;
    }

    public List<String> stderr() {
        return stderr;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return "stdout=" + stdout + " stderr=" + stderr;
    }
}
