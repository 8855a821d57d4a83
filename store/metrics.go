package store

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sacrum-dev/sacrum/dimse"
)

// Metrics are the node's Prometheus metrics. The association metrics are fed by the DIMSE server, for
// which Metrics is a dimse.Observer: ConnectionOpened/ConnectionClosed move the active gauge,
// AssociationAccepted/AssociationRejected count outcomes.
type Metrics struct {
	instances        prometheus.Counter
	bytes            prometheus.Counter
	duplicates       prometheus.Counter
	ownIgnored       prometheus.Counter
	admitRejected    prometheus.Counter
	assocActive      prometheus.Gauge
	assocAccepted    prometheus.Counter
	assocRejected    prometheus.Counter
	pipelineDuration prometheus.Histogram
	stageDuration    *prometheus.HistogramVec
	pipelineRuns     *prometheus.CounterVec
	outboxSends      *prometheus.CounterVec
	outboxFailures   *prometheus.CounterVec
}

func newMetrics() *Metrics {
	buckets := []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800}
	return &Metrics{
		instances: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_instances_received_total",
			Help: "Instances stored (C-STORE answered with success), duplicates excluded."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_bytes_received_total",
			Help: "Bytes of Part 10 files stored."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_instances_duplicate_total",
			Help: "Identical duplicate instances acknowledged without change."}),
		ownIgnored: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_instances_own_results_ignored_total",
			Help: "Our own result objects routed back to us and dropped."}),
		admitRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_instances_refused_total",
			Help: "Instances refused with A700 because the disk was below min_free_bytes."}),
		assocActive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sacrum_associations_active",
			Help: "DICOM connections open (associations being negotiated or established)."}),
		assocAccepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_associations_accepted_total",
			Help: "Associations accepted."}),
		assocRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "sacrum_associations_rejected_total",
			Help: "Associations rejected."}),
		pipelineDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sacrum_pipeline_duration_seconds",
			Help: "Duration of pipeline runs.", Buckets: buckets}),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sacrum_pipeline_stage_duration_seconds",
			Help: "Duration of pipeline stages.", Buckets: buckets}, []string{"stage"}),
		pipelineRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sacrum_pipeline_runs_total",
			Help: "Pipeline runs by outcome."}, []string{"outcome"}),
		outboxSends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sacrum_outbox_sends_total",
			Help: "Result objects acknowledged by a destination."}, []string{"destination"}),
		outboxFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sacrum_outbox_failures_total",
			Help: "Failed sends of result objects."}, []string{"destination"}),
	}
}

// Metrics is the DIMSE server's observer (dimse.ServerConfig.Observer).
var _ dimse.Observer = (*Metrics)(nil)

// ConnectionOpened counts a DICOM connection as active.
func (m *Metrics) ConnectionOpened() { m.assocActive.Inc() }

// ConnectionClosed ends an active DICOM connection.
func (m *Metrics) ConnectionClosed() { m.assocActive.Dec() }

// AssociationAccepted counts an accepted association.
func (m *Metrics) AssociationAccepted(dimse.AssociationInfo) { m.assocAccepted.Inc() }

// AssociationRejected counts a rejected association, whatever the reason.
func (m *Metrics) AssociationRejected(info dimse.AssociationInfo, result, source, reason byte) {
	m.assocRejected.Inc()
}

func (m *Metrics) register(reg prometheus.Registerer, s *Store) error {
	for _, c := range []prometheus.Collector{m.instances, m.bytes, m.duplicates, m.ownIgnored, m.admitRejected,
		m.assocActive, m.assocAccepted, m.assocRejected, m.pipelineDuration, m.stageDuration, m.pipelineRuns,
		m.outboxSends, m.outboxFailures, newStateCollector(s)} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// stateCollector reports studies by state and the queue depth from the database at scrape time.
type stateCollector struct {
	s                                  *Store
	descStudies, descQueue, descOutbox *prometheus.Desc
}

func newStateCollector(s *Store) stateCollector {
	return stateCollector{s: s,
		descStudies: prometheus.NewDesc("sacrum_studies", "Studies by lifecycle state.", []string{"state"}, nil),
		descQueue:   prometheus.NewDesc("sacrum_queue_depth", "Studies waiting for a worker (QUEUED).", nil, nil),
		descOutbox:  prometheus.NewDesc("sacrum_outbox_pending", "Outbox entries not yet delivered.", nil, nil),
	}
}

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.descStudies
	ch <- c.descQueue
	ch <- c.descOutbox
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	counts, pending, err := c.s.stateCounts()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.descStudies, err)
		return
	}
	for _, st := range States {
		ch <- prometheus.MustNewConstMetric(c.descStudies, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.descQueue, prometheus.GaugeValue, float64(counts[StateQueued]))
	ch <- prometheus.MustNewConstMetric(c.descOutbox, prometheus.GaugeValue, float64(pending))
}
