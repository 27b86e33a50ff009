package dev.herald.server;

import dev.herald.config.HeraldConfig.PushPriority;

import java.util.ArrayList;
import java.util.List;

/**
 * What one page's response announced and what became of it, used on its connection's event loop only: the
 * decision (pushed, skipped because the client has it, hinted, and why nothing was pushed), the outcome of each
 * push (completed, cancelled by the client), and the send order between the page and its pushes
 * ({@link PushPriority}).
 *
 * <h2>Send order</h2>
 * The pushes hang under the page's stream in the priority tree, in a chain in promise order ({@link Http2Pusher}),
 * so the page's ready bytes go first. On top of that, a {@link PushPriority#BEFORE} push holds the page's body until it closes or stalls on
 * the client's flow-control window (so a client that does not read pushes cannot hold the page); an
 * {@link PushPriority#AFTER} push does not start until the page's response is complete; an
 * {@link PushPriority#INTERLEAVED} push starts at once and takes what the page leaves. The page's HEADERS always go right after the promises, so the client
 * knows the page is coming; the budget ({@code push.max-bytes}) bounds how long BEFORE pushes can hold its body.
 *
 * <h2>Rounds</h2>
 * When every push so far has closed and the page's response has still not started, {@link #onIdle} lets the
 * exchange promise the next round of its manifest ({@link Preload#round()}): the think-time budget.
 *
 * <h2>Access log</h2>
 * The page's line waits until every push it made has closed, so it can count the cancelled ones.
 */
final class PagePushes {
    final List<String> pushed = new ArrayList<>();
    final List<String> skippedDiary = new ArrayList<>();
    final List<String> skippedDigest = new ArrayList<>();
    final List<String> hinted = new ArrayList<>();
    /** The stream id of the last push promised for this page (the next one depends on it), or 0. */
    int lastPromised;
    /** Why nothing more was pushed, or null. */
    String reason;
    int cancelled;
    private int open;
    private int holdingBody;
    private boolean pageDone;
    private Runnable body;
    private Runnable settled;
    /** Called when the page's response is complete, so AFTER pushes can start. */
    Runnable onPageDone = () -> { };
    /**
     * Called when every push made so far has closed, i.e. its last frame was written to the socket (Netty closes a
     * pushed stream when its END_STREAM write completes): the exchange may then promise its next round.
     */
    Runnable onIdle = () -> { };

    /** A push was promised for this page with this send order. */
    void promised(String path, PushPriority priority) {
        pushed.add(path);
        open++;
        if (priority == PushPriority.BEFORE) {
            holdingBody++;
        }
    }

    /**
     * A BEFORE push no longer holds the page's body: it closed, or it stalled on the client's flow-control window.
     * Called once per BEFORE push.
     */
    void bodyReleased() {
        if (--holdingBody == 0 && body != null) {
            Runnable r = body;
            body = null;
            r.run();
        }
    }

    /** A push of this page closed (completed, reset, or the connection went); it released the body already. */
    void pushClosed(boolean cancelledByClient) {
        if (cancelledByClient) {
            cancelled++;
        }
        open--;
        if (open == 0) {
            onIdle.run(); // may promise more (a later round), and so keep the page's log line waiting
        }
        if (open == 0 && settled != null) {
            Runnable r = settled;
            settled = null;
            r.run();
        }
    }

    /** Runs {@code sendBody} now, or once the BEFORE pushes have closed. */
    void whenBodyMayGo(Runnable sendBody) {
        if (holdingBody == 0) {
            sendBody.run();
        } else {
            body = sendBody;
        }
    }

    /** Whether a push of this priority may start now. */
    boolean mayStart(PushPriority priority) {
        return priority != PushPriority.AFTER || pageDone;
    }

    /** The page's response is complete (or failed, or is a long-running stream whose head is out). */
    void pageDone() {
        if (!pageDone) {
            pageDone = true;
            onPageDone.run();
        }
    }

    /** Runs {@code action} now, or once every push of this page has closed. */
    void whenSettled(Runnable action) {
        if (open == 0) {
            action.run();
        } else {
            settled = action;
        }
    }

    /** The access-log fields: {@code pushed=2 cancelled=0 skipped-diary=1 skipped-digest=0 hinted=3}. */
    String logFields() {
        return "pushed=" + pushed.size() + " cancelled=" + cancelled + " skipped-diary=" + skippedDiary.size()
                + " skipped-digest=" + skippedDigest.size() + " hinted=" + hinted.size()
                + (reason == null ? "" : " push-reason=" + reason);
    }

    /**
     * The {@code x-herald-push} value:
     * {@code pushed=/a.css,/f.woff2; skipped-digest=/b.js; hinted=/c.js; reason=push-disabled}, empty parts left out.
     */
    String debugHeader() {
        StringBuilder sb = new StringBuilder();
        part(sb, "pushed", pushed);
        part(sb, "skipped-diary", skippedDiary);
        part(sb, "skipped-digest", skippedDigest);
        part(sb, "hinted", hinted);
        if (reason != null) {
            sb.append(sb.length() == 0 ? "" : "; ").append("reason=").append(reason);
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }

    private static void part(StringBuilder sb, String name, List<String> paths) {
        if (!paths.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : "; ").append(name).append('=').append(String.join(",", paths));
        }
    }

    /** The send order of a resource under {@code policy}: AUTO is Apache's per-type default. */
    static PushPriority priority(PushPriority policy, Preload.Type type) {
        if (policy != PushPriority.AUTO) {
            return policy;
        }
        return switch (type) {
            case STYLE, FONT -> PushPriority.BEFORE;
            case SCRIPT, MODULE -> PushPriority.INTERLEAVED;
            default -> PushPriority.AFTER;
        };
    }
}
