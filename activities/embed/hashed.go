package embed

import (
	"context"
	"hash/fnv"
	"math"
	"strings"

	"github.com/treejar/noor/internal/textnorm"
)

// HashedNGrams is the offline embedder: feature hashing of words, word pairs and character
// 3- and 4-grams into 1024 signed buckets, with sub-linear term weights, L2-normalised.
// It needs no weights and no network, is deterministic, and works on any script: Arabic
// text is normalised (hamza forms, taa marbuta, diacritics, the article) before hashing,
// and a small furniture lexicon adds the English concept words for common Arabic ones, so
// "كرسي مكتب" lands near "office chair". It is a lexical model: it knows spelling, not
// meaning, which is why retrieval fuses it with full-text search and structured filters.
type HashedNGrams struct {
	dims int
}

// NewHashedNGrams returns the offline embedder with Dims dimensions.
func NewHashedNGrams() *HashedNGrams { return &HashedNGrams{dims: Dims} }

// Model is versioned: changing the features below must change it, so stored vectors are
// recomputed.
func (h *HashedNGrams) Model() string { return "offline-hashed-ngrams-v1" }
func (h *HashedNGrams) Dims() int     { return h.dims }

func (h *HashedNGrams) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out[i] = h.Vector(t)
	}
	return out, nil
}

// Feature weights: whole words carry the meaning, character n-grams give robustness to
// inflection, typos and glued SKUs ("ch145"), word pairs keep model codes together.
const (
	wWord    = 1.0
	wPair    = 0.6
	wNGram   = 0.35
	wConcept = 0.8
)

// Vector embeds one text.
func (h *HashedNGrams) Vector(text string) []float32 {
	counts := map[string]float64{}
	words := Words(text)
	for i, w := range words {
		counts["w:"+w] += wWord
		if i > 0 {
			counts["p:"+words[i-1]+"_"+w] += wPair
		}
		padded := []rune("<" + w + ">")
		for n := 3; n <= 4; n++ {
			for j := 0; j+n <= len(padded); j++ {
				counts["g:"+string(padded[j:j+n])] += wNGram
			}
		}
		for _, c := range arabicConcepts[w] {
			counts["w:"+c] += wConcept
		}
	}
	v := make([]float64, h.dims)
	if len(counts) == 0 {
		counts["w:<empty>"] = 1
	}
	for f, c := range counts {
		hs := fnv.New64a()
		_, _ = hs.Write([]byte(f))
		x := hs.Sum64()
		idx := int(x % uint64(h.dims))
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		// Sub-linear: a word repeated five times is not five times as important.
		w := c
		if c > 1 {
			w = 1 + math.Log(c)
		}
		v[idx] += sign * w
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	out := make([]float32, h.dims)
	if norm == 0 {
		out[0] = 1
		return out
	}
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// Words normalises text into the word tokens the offline embedder hashes: folded
// homoglyphs and digits, normalised Arabic without the article, lower case, English
// plurals reduced, and letters split from digits ("ch145" → "ch", "145").
func Words(text string) []string {
	toks := textnorm.Tokens(textnorm.Normalize(text))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		for _, p := range splitLetterDigit(t) {
			if textnorm.HasArabic(p) {
				p = textnorm.StripArabicArticle(p)
			} else {
				p = singular(p)
			}
			if stopwords[p] {
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

func splitLetterDigit(t string) []string {
	var parts []string
	var cur []rune
	kind := 0 // 1 letter, 2 digit
	for _, r := range t {
		k := 1
		if r >= '0' && r <= '9' {
			k = 2
		}
		if kind != 0 && k != kind {
			parts = append(parts, string(cur))
			cur = cur[:0]
		}
		kind = k
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		parts = append(parts, string(cur))
	}
	return parts
}

// singular reduces regular English plurals (chairs → chair, boxes → box, shelves → shelf).
func singular(w string) string {
	switch {
	case len(w) <= 3 || !strings.HasSuffix(w, "s") || strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us"):
		return w
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ves"):
		return w[:len(w)-3] + "f"
	case strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		return w[:len(w)-2]
	}
	return w[:len(w)-1]
}

var stopwords = setOf("a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "is", "are", "do", "you",
	"we", "i", "me", "my", "our", "your", "it", "this", "that", "have", "has", "need", "want", "looking", "please",
	"can", "could", "would", "some", "any", "hi", "hello", "what", "which", "how", "much", "show", "get", "like",
	"من", "في", "على", "الى", "الي", "عن", "مع", "هل", "او", "و", "انا", "اريد", "نريد", "احتاج", "نحتاج", "لو", "ممكن", "عندكم", "لدي", "لديكم")

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// arabicConcepts maps normalised Arabic furniture words (without the article) to the
// English words of the catalog. Keys are in textnorm.Normalize form.
var arabicConcepts = func() map[string][]string {
	src := map[string]string{
		"كرسي": "chair", "كراسي": "chair", "مقعد": "chair seat", "مقاعد": "chair seat",
		"مكتب": "desk office", "مكاتب": "desk office", "طاوله": "table", "طاولات": "table", "طاولتين": "table",
		"اجتماع": "meeting conference", "اجتماعات": "meeting conference", "مؤتمرات": "conference",
		"خزانه": "cabinet storage", "خزائن": "cabinet storage", "دولاب": "cabinet cupboard", "خزنه": "cabinet",
		"ادراج": "drawer pedestal", "درج": "drawer pedestal", "جوارير": "drawer pedestal",
		"تنفيذي": "executive", "تنفيذيه": "executive", "مدير": "executive manager", "مدراء": "executive manager",
		"مريح": "ergonomic comfortable", "مريحه": "ergonomic comfortable", "طبي": "ergonomic", "ظهر": "back lumbar",
		"استقبال": "reception", "كاونتر": "reception counter", "انتظار": "visitor waiting lounge", "زوار": "visitor",
		"كنبه": "sofa", "كنب": "sofa", "اريكه": "sofa", "ارائك": "sofa", "صوفا": "sofa",
		"خزانات": "locker", "لوكر": "locker", "حديد": "steel", "معدني": "steel metal",
		"عازل": "acoustic", "عزل": "acoustic", "صوت": "acoustic", "صوتي": "acoustic", "كبينه": "pod booth", "بود": "pod",
		"هاتف": "phone", "فاصل": "partition screen", "قاطع": "partition",
		"محطه": "workstation", "محطات": "workstation", "عمل": "work",
		"شاشه": "monitor", "شاشات": "monitor", "ذراع": "arm", "مصباح": "lamp", "اضاءه": "lamp light",
		"نبات": "plant planter", "نباتات": "plant planter", "زرع": "planter",
		"كافتيريا": "cafeteria", "مطبخ": "cafeteria", "بار": "bar stool",
		"قابل": "adjustable", "للتعديل": "adjustable", "تعديل": "adjustable", "كهربائي": "electric motor",
		"وقوف": "standing height adjustable", "ارتفاع": "height",
		"العاب": "gaming", "الالعاب": "gaming", "جيمنج": "gaming",
		"اسود": "black", "سوداء": "black", "رمادي": "grey", "رماديه": "grey", "ابيض": "white", "بيضاء": "white",
		"ازرق": "blue", "زرقاء": "blue", "احمر": "red", "حمراء": "red", "بني": "walnut brown", "خشبي": "wood oak walnut",
		"جلد": "leather", "شبك": "mesh", "شبكي": "mesh", "قماش": "fabric",
		"شخص": "person", "اشخاص": "person", "شخصين": "2 person", "موظف": "staff person", "موظفين": "staff person",
		"كابل": "cable", "كابلات": "cable", "اسلاك": "cable",
	}
	m := make(map[string][]string, len(src))
	for k, v := range src {
		m[textnorm.StripArabicArticle(textnorm.Normalize(k))] = strings.Fields(v)
	}
	return m
}()

// Concepts returns the English catalog words for a normalised Arabic word (see Words), or
// nil. Retrieval uses it to search the English full-text index with Arabic queries.
func Concepts(word string) []string { return arabicConcepts[word] }
