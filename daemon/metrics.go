package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
)

// metrics are the daemon's Prometheus metrics: counters and histograms
// fed as jobs end, and gauges read from the job log and the stores at
// each scrape (so they are true after a restart).
type metrics struct {
	d        *Daemon
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
	read     *prometheus.CounterVec
	added    *prometheus.CounterVec
	alerts   *prometheus.CounterVec

	jobs, lastSuccess, rpoMet, versions, logical, stored, dedup, storeSize, storeVersions *prometheus.Desc
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{d: d, reg: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_job_duration_seconds", Help: "How long finished jobs ran, by kind and final state.", Buckets: prometheus.ExponentialBuckets(0.5, 2, 16)}, []string{"kind", "state"})
	m.read = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_object_read_bytes_total", Help: "Bytes read from the source by this daemon's backups, per object."}, []string{"object"})
	m.added = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_object_new_bytes_total", Help: "Bytes (compressed) this daemon's backups added to the store, per object."}, []string{"object"})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_alerts_total", Help: "Alerts raised, by class."}, []string{"class"})
	m.jobs = prometheus.NewDesc("strata_jobs", "Jobs in the job log by kind and state.", []string{"kind", "state"}, nil)
	obj := []string{"store", "object", "policy"}
	m.lastSuccess = prometheus.NewDesc("strata_object_last_success_timestamp_seconds", "Time of the object's newest version.", obj, nil)
	m.rpoMet = prometheus.NewDesc("strata_object_rpo_met", "1 when the object's newest version is within its policy's RPO (plus grace), else 0.", obj, nil)
	m.versions = prometheus.NewDesc("strata_object_versions", "Versions of the object in the store.", obj, nil)
	m.logical = prometheus.NewDesc("strata_object_logical_bytes", "Logical size of the object's newest version (replicas included).", obj, nil)
	m.stored = prometheus.NewDesc("strata_object_stored_bytes", "Bytes all the object's versions added to the store.", obj, nil)
	m.dedup = prometheus.NewDesc("strata_object_dedup_ratio", "Logical bytes of all the object's versions per byte they added to the store.", obj, nil)
	m.storeSize = prometheus.NewDesc("strata_store_size_bytes", "The store's size.", []string{"store"}, nil)
	m.storeVersions = prometheus.NewDesc("strata_store_versions", "Versions in the store.", []string{"store"}, nil)
	m.reg.MustRegister(m.duration, m.read, m.added, m.alerts, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (d *Daemon) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(d.met.reg, promhttp.HandlerOpts{})
}

func (m *metrics) jobEnded(j joblog.Job) {
	if !j.Started.IsZero() {
		m.duration.WithLabelValues(j.Kind, string(j.State)).Observe(j.Ended.Sub(j.Started).Seconds())
	}
}

func (m *metrics) versionMade(v engine.Version) {
	m.read.WithLabelValues(v.Object.String()).Add(float64(v.Stats.ReadBytes))
	m.added.WithLabelValues(v.Object.String()).Add(float64(v.Stats.NewBytes))
}

func (m *metrics) alerted(class string) { m.alerts.WithLabelValues(class).Inc() }

// Describe sends the descriptions of the scrape-time gauges.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.jobs, m.lastSuccess, m.rpoMet, m.versions, m.logical, m.stored, m.dedup, m.storeSize, m.storeVersions} {
		ch <- d
	}
}

// Collect reads jobs, objects and stores at scrape time.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if jobs, err := m.d.Jobs(); err == nil {
		counts := map[[2]string]int{}
		for _, j := range jobs {
			counts[[2]string{j.Kind, string(j.State)}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(m.jobs, prometheus.GaugeValue, float64(n), k[0], k[1])
		}
	}
	for _, s := range m.d.Stores(ctx) {
		if s.Error != "" {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.storeSize, prometheus.GaugeValue, float64(s.SizeBytes), s.Name)
		ch <- prometheus.MustNewConstMetric(m.storeVersions, prometheus.GaugeValue, float64(s.Versions), s.Name)
		m.collectObjects(ctx, ch, s.Name)
	}
}

// collectObjects sends one store's per-object gauges.
func (m *metrics) collectObjects(ctx context.Context, ch chan<- prometheus.Metric, store string) {
	objs := m.d.Objects(ctx)
	st, err := m.d.Stats(ctx, store, "", time.Time{}, time.Time{})
	if err != nil {
		return
	}
	use := map[string]TableUse{}
	for _, u := range st.Tables {
		use[u.Object] = u
	}
	for _, o := range objs {
		if o.Store != store || o.Error != "" {
			continue
		}
		l := []string{store, o.Object, o.Policy}
		met := 0.0
		if o.RPOMet {
			met = 1
		}
		u := use[o.Object]
		ch <- prometheus.MustNewConstMetric(m.lastSuccess, prometheus.GaugeValue, float64(o.LastSuccess.Unix()), l...)
		ch <- prometheus.MustNewConstMetric(m.rpoMet, prometheus.GaugeValue, met, l...)
		ch <- prometheus.MustNewConstMetric(m.versions, prometheus.GaugeValue, float64(o.Versions), l...)
		ch <- prometheus.MustNewConstMetric(m.logical, prometheus.GaugeValue, float64(o.LogicalBytes), l...)
		ch <- prometheus.MustNewConstMetric(m.stored, prometheus.GaugeValue, float64(u.StoredBytes), l...)
		if u.StoredBytes > 0 {
			ch <- prometheus.MustNewConstMetric(m.dedup, prometheus.GaugeValue, float64(u.LogicalBytes)/float64(u.StoredBytes), l...)
		}
	}
}
