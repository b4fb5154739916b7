package textnorm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/internal/textnorm"
)

func TestForMatching(t *testing.T) {
	cases := map[string]string{
		"STOP!!":                     "stop",
		"  Don't   message me. ":     "dont message me",
		"إلغاء الاشتراك":             "الغاء الاشتراك",
		"في إجازةٍ حتى ٣ أكتوبر":     "في اجازه حتي 3 اكتوبر",
		"back on 03/10/2026, thanks": "back on 03/10/2026 thanks",
		"5 x CH-190":                 "5 x ch 190",
		"until 2026-10-03.":          "until 2026-10-03",
		"مسؤول":                      "مسوول",
		"ـــتوقف":                    "توقف",
		"12:30pm":                    "12:30pm",
	}
	for in, want := range cases {
		assert.Equal(t, want, textnorm.ForMatching(in), in)
	}
}

func TestHasPhrase(t *testing.T) {
	n := textnorm.ForMatching("Please, STOP sending messages")
	assert.True(t, textnorm.HasPhrase(n, "stop sending"))
	assert.False(t, textnorm.HasPhrase(n, "top"), "whole words only")
	assert.True(t, textnorm.HasPhrase(textnorm.ForMatching("أريد إلغاء الطلب"), "الغاء"))
	assert.True(t, textnorm.HasAny(n, "nothing", "messages"))
	assert.False(t, textnorm.HasPhrase(n, "  "))
	assert.True(t, textnorm.IsQuestion("هل يمكن؟"))
}
