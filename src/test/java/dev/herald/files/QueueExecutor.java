package dev.herald.files;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;

/** An executor that only queues: the test decides when (and whether) blocking work runs. */
final class QueueExecutor implements Executor {
    private final Queue<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(task);
    }

    synchronized int pending() {
        return tasks.size();
    }

    /** Runs every queued task on the calling thread; returns how many ran. */
    int runAll() {
        int n = 0;
        for (Runnable task = poll(); task != null; task = poll()) {
            task.run();
            n++;
        }
        return n;
    }

    private synchronized Runnable poll() {
        return tasks.poll();
    }
}
