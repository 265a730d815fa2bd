// StrataBulk writes rows as SSTables with Cassandra's own CQLSSTableWriter
// and streams them into a cluster with sstableloader's code (BulkLoader):
// the bulk path of `strata restore --to-cassandra --sstable-jars DIR`.
// strata runs it with the java source launcher against the jars of the
// target's Cassandra version, so the SSTables are in a format the target
// reads and no compiled class ships with strata.
//
// Arguments are NAME=VALUE pairs: dir (an empty working directory),
// keyspace, table, table (CREATE TABLE of the target), type (CREATE TYPE,
// repeated, in dependency order), insert (the prepared INSERT with three
// bind markers: the row as JSON, its write time, its TTL), hosts
// (comma-separated), port (native), storage-port, user, buffer-mib (the
// writer's sort buffer), segment-mib (input per segment, 0 for one: each
// segment's SSTables are streamed while the next is written, then
// removed).
// The password is read from $STRATA_BULK_PASSWORD, never from arguments.
//
// Standard input holds one row per line: write time (microseconds), TAB,
// TTL (seconds, 0 for none), TAB, the row's JSON. Progress and errors go
// to standard error, prefixed "strata-bulk:"; the last line on standard
// output, "rows=N sstables=M bytes=B segments=S write_s=W
// stream_tail_s=T", says everything was streamed.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.cassandra.dht.Murmur3Partitioner;
import org.apache.cassandra.io.sstable.CQLSSTableWriter;
import org.apache.cassandra.tools.BulkLoader;
import org.apache.cassandra.tools.LoaderOptions;

public final class StrataBulk {
    public static void main(String[] args) {
        try {
            run(args);
            System.out.flush();
            System.exit(0);
        } catch (Throwable e) {
            System.err.println("strata-bulk: error: " + e);
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                System.err.println("strata-bulk: caused by: " + c);
            }
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        List<String> types = new ArrayList<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("argument " + a + " is not NAME=VALUE");
            }
            String k = a.substring(0, eq), v = a.substring(eq + 1);
            if (k.equals("type")) {
                types.add(v);
            } else {
                opt.put(k, v);
            }
        }
        need(opt, "keyspace");
        need(opt, "table");
        need(opt, "create");
        need(opt, "insert");
        need(opt, "hosts");
        long segmentBytes = Long.parseLong(opt.getOrDefault("segment-mib", "0")) << 20;
        if (segmentBytes <= 0) {
            segmentBytes = Long.MAX_VALUE;
        }
        Streamer streamer = new Streamer(opt);
        streamer.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 20);
        long rows = 0, start = System.nanoTime();
        int segment = 0;
        Segment cur = null;
        String line;
        while ((line = in.readLine()) != null) {
            int t1 = line.indexOf('\t'), t2 = line.indexOf('\t', t1 + 1);
            if (t1 < 0 || t2 < 0) {
                throw new IllegalArgumentException("input line " + (rows + 1) + " is not TIMESTAMP<TAB>TTL<TAB>JSON");
            }
            long ts = Long.parseLong(line, 0, t1, 10);
            int ttl = Integer.parseInt(line, t1 + 1, t2, 10);
            if (cur == null) {
                streamer.check();
                cur = new Segment(opt, types, segment++);
            }
            try {
                cur.writer.addRow(line.substring(t2 + 1), ts, ttl);
            } catch (Exception e) {
                throw new IllegalArgumentException("row " + (rows + 1) + ": " + e.getMessage(), e);
            }
            rows++;
            cur.input += line.length() + 1;
            if (cur.input >= segmentBytes) {
                streamer.add(cur.close());
                cur = null;
            }
        }
        if (cur != null) {
            streamer.add(cur.close());
        }
        // A failure above ends the process (main), streamer and all.
        long written = System.nanoTime();
        System.err.printf("strata-bulk: wrote %d rows in %.1f s; streaming the rest%n", rows, (written - start) / 1e9);
        streamer.finish();
        streamer.join();
        streamer.check();
        System.out.printf("rows=%d sstables=%d bytes=%d segments=%d write_s=%.1f stream_tail_s=%.1f%n", rows, streamer.sstables,
                streamer.bytes, segment, (written - start) / 1e9, (System.nanoTime() - written) / 1e9);
    }

    /** One writer's SSTables, in a directory of their own. */
    private static final class Segment {
        final java.io.File dir;
        final CQLSSTableWriter writer;
        long input;

        Segment(Map<String, String> opt, List<String> types, int n) throws Exception {
            dir = new java.io.File(need(opt, "dir"), "seg-" + n + "/" + opt.get("keyspace") + "/" + opt.get("table"));
            if (!dir.mkdirs() && !dir.isDirectory()) {
                throw new java.io.IOException("cannot create " + dir);
            }
            CQLSSTableWriter.Builder b = CQLSSTableWriter.builder().inDirectory(dir.getPath())
                    .forTable(opt.get("create")).using(opt.get("insert"))
                    .withPartitioner(new Murmur3Partitioner())
                    .withBufferSizeInMB(Integer.parseInt(opt.getOrDefault("buffer-mib", "256")));
            for (String t : types) {
                b.withType(t);
            }
            writer = b.build();
        }

        java.io.File close() throws java.io.IOException {
            writer.close();
            return dir;
        }
    }

    /**
     * Streams each closed segment while the next one is written, one at a
     * time, and removes it once streamed. A closed segment is handed over
     * only when the streamer is free (the queue holds nothing), so the
     * writer waits rather than run ahead: scratch space stays at two
     * segments, the one streaming and the one being written or waiting.
     */
    private static final class Streamer extends Thread {
        private final Map<String, String> opt;
        private final java.util.concurrent.SynchronousQueue<java.io.File> queue = new java.util.concurrent.SynchronousQueue<>();
        private static final java.io.File END = new java.io.File("");
        private volatile Throwable failure;
        long bytes;
        int sstables;

        Streamer(Map<String, String> opt) {
            super("strata-streamer");
            this.opt = opt;
        }

        /** Hands dir over once the streamer is free; throws if it failed. */
        void add(java.io.File dir) throws Exception {
            while (!queue.offer(dir, 1, java.util.concurrent.TimeUnit.SECONDS)) {
                check();
            }
        }

        /** Says there is no more input (unless the streamer has failed). */
        void finish() throws InterruptedException {
            while (failure == null && !queue.offer(END, 1, java.util.concurrent.TimeUnit.SECONDS)) {
                // the streamer is still busy with the last segment
            }
        }

        /** Throws what made streaming fail, if it did. */
        void check() throws Exception {
            if (failure != null) {
                throw new java.io.IOException("streaming: " + failure, failure);
            }
        }

        @Override
        public void run() {
            try {
                for (java.io.File dir = queue.take(); dir != END; dir = queue.take()) {
                    stream(dir);
                    delete(dir.getParentFile().getParentFile());
                }
            } catch (Throwable e) {
                failure = e;
            }
        }

        private void stream(java.io.File dir) throws Exception {
            int n = 0;
            java.io.File[] files = dir.listFiles();
            for (java.io.File f : files == null ? new java.io.File[0] : files) {
                bytes += f.length();
                if (f.getName().endsWith("-Data.db")) {
                    n++;
                }
            }
            sstables += n;
            if (n == 0) {
                return;
            }
            List<String> argv = new ArrayList<>(List.of("--no-progress", "-d", opt.get("hosts"),
                    "-p", opt.getOrDefault("port", "9042"), "-sp", opt.getOrDefault("storage-port", "7000")));
            String user = opt.get("user"), pw = System.getenv("STRATA_BULK_PASSWORD");
            if (user != null && !user.isEmpty()) {
                argv.addAll(List.of("-u", user, "-pw", pw == null ? "" : pw));
            }
            argv.add(dir.getPath());
            // LoaderOptions.Builder is not public: reach it by reflection.
            Object lb = LoaderOptions.class.getMethod("builder").invoke(null);
            java.lang.reflect.Method parse = lb.getClass().getMethod("parseArgs", String[].class);
            parse.setAccessible(true);
            lb = parse.invoke(lb, (Object) argv.toArray(new String[0]));
            java.lang.reflect.Method build = lb.getClass().getMethod("build");
            build.setAccessible(true);
            BulkLoader.load((LoaderOptions) build.invoke(lb));
        }

        private static void delete(java.io.File f) {
            java.io.File[] kids = f.listFiles();
            if (kids != null) {
                for (java.io.File k : kids) {
                    delete(k);
                }
            }
            f.delete();
        }
    }

    private static String need(Map<String, String> opt, String k) {
        String v = opt.get(k);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing argument " + k + "=");
        }
        return v;
    }
}
