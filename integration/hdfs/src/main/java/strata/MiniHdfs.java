package strata;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Runs an in-process HDFS for integration tests: one NameNode on
 * 127.0.0.1:9000 and two DataNodes on 127.0.0.1 (so clients that dial
 * DataNodes by IP reach them), replication 2, and a snapshottable
 * directory /strata-snap.
 *
 * Usage: MiniHdfs WORKDIR. Data lives in WORKDIR/data (formatted only
 * on the first successful start, so a restart keeps files); client configuration goes to
 * WORKDIR/conf/{core,hdfs}-site.xml for HADOOP_CONF_DIR; WORKDIR/ready is
 * written once the cluster is active. Runs until killed.
 */
public final class MiniHdfs {
    static final int NAMENODE_PORT = 9000;
    static final int DATANODES = 2;
    static final String SNAPSHOT_DIR = "/strata-snap";

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: MiniHdfs WORKDIR");
            System.exit(2);
        }
        File work = new File(args[0]);
        File data = new File(work, "data");
        File ready = new File(work, "ready");
        Files.deleteIfExists(ready.toPath());
        // Format only a fresh directory; the marker is written once the
        // cluster came up, so a start that died half-way formats again.
        File formatted = new File(work, "formatted");
        boolean format = !formatted.exists();

        Configuration conf = serverConf(data);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf)
                .nameNodePort(NAMENODE_PORT)
                .numDataNodes(DATANODES)
                .format(format)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
        cluster.waitActive();
        cluster.waitClusterUp();

        DistributedFileSystem fs = cluster.getFileSystem();
        Path snap = new Path(SNAPSHOT_DIR);
        fs.mkdirs(snap);
        fs.allowSnapshot(snap);

        formatted.createNewFile();
        writeClientConf(new File(work, "conf"));
        Files.writeString(ready.toPath(), "hdfs://127.0.0.1:" + NAMENODE_PORT + "\n");
        System.out.println("MiniHdfs ready on hdfs://127.0.0.1:" + NAMENODE_PORT);
        Thread.currentThread().join();
    }

    static Configuration serverConf(File data) {
        Configuration conf = new HdfsConfiguration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, data.getAbsolutePath());
        conf.setInt("dfs.replication", DATANODES);
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.namenode.safemode.extension", 0);
        conf.set("dfs.datanode.hostname", "127.0.0.1");
        conf.setBoolean("dfs.namenode.datanode.registration.ip-hostname-check", false);
        conf.setInt("dfs.heartbeat.interval", 1);
        conf.setInt("dfs.blockreport.initialDelay", 0);
        return conf;
    }

    /** Writes the client side of the configuration, atomically per file. */
    static void writeClientConf(File dir) throws IOException {
        dir.mkdirs();
        Configuration core = new Configuration(false);
        core.set("fs.defaultFS", "hdfs://127.0.0.1:" + NAMENODE_PORT);
        writeXml(core, new File(dir, "core-site.xml"));
        Configuration hdfs = new Configuration(false);
        hdfs.setInt("dfs.replication", DATANODES);
        hdfs.setBoolean("dfs.client.use.datanode.hostname", false);
        writeXml(hdfs, new File(dir, "hdfs-site.xml"));
    }

    static void writeXml(Configuration c, File f) throws IOException {
        File tmp = new File(f.getPath() + ".tmp");
        try (OutputStream out = new FileOutputStream(tmp)) {
            c.writeXml(out);
        }
        Files.move(tmp.toPath(), f.toPath(), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }
}
