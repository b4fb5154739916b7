package pii

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskPhone(t *testing.T) {
	assert.Equal(t, "971*******65", MaskPhone("971551220665"))
	assert.Equal(t, "971*******65", MaskPhone("+971 55 122 0665"))
	assert.Equal(t, "***", MaskPhone("123"))
	assert.Equal(t, "", MaskPhone(""))
}

func TestMaskerRoundTrip(t *testing.T) {
	m := NewMasker()
	in := "I'm Lina, call me on +971 52 666 7788 or lina@cedarline.ae. Need 12 x CH 616 and NOVO 1200, budget 700 AED."
	masked := m.Mask(in)
	assert.NotContains(t, masked, "7788")
	assert.NotContains(t, masked, "lina@cedarline.ae")
	assert.Contains(t, masked, "[PHONE_1]")
	assert.Contains(t, masked, "[EMAIL_1]")
	assert.Contains(t, masked, "CH 616", "product codes are not phone numbers")
	assert.Contains(t, masked, "NOVO 1200")
	assert.Contains(t, masked, "700 AED")
	assert.Equal(t, in, m.Unmask(masked))
	// The same value gets the same placeholder.
	assert.Equal(t, "[PHONE_1]", m.Mask("+971 52 666 7788"))
	assert.Equal(t, "Thanks, we will e-mail lina@cedarline.ae", m.Unmask("Thanks, we will e-mail [EMAIL_1]"))
}
