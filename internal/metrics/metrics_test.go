package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemporalHandlerToleratesChangingTags(t *testing.T) {
	reg := NewRegistry()
	h := NewTemporalHandler(reg)
	h.WithTags(map[string]string{"namespace": "default", "task_queue": "noor"}).Counter("temporal_request").Inc(2)
	// Same metric, different tag keys: mapped onto the first label set, never a panic.
	h.WithTags(map[string]string{"namespace": "default", "operation": "Poll"}).Counter("temporal_request").Inc(1)
	h.Gauge("temporal_num_pollers").Update(3)
	h.WithTags(map[string]string{"activity_type": "Send"}).Timer("temporal_activity_execution_latency").Record(120 * time.Millisecond)

	n, err := testutil.GatherAndCount(reg, "temporal_request", "temporal_num_pollers", "temporal_activity_execution_latency_seconds")
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "temporal_request" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, 3.0, total)
}
