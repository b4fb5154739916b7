package retrieval

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/internal/textnorm"
)

// NormalizeSKU is the form SKUs are compared in: look-alike Cyrillic/Greek letters folded
// to Latin, upper case, separators (space, -, _, ., /) collapsed to one space, and letters
// split from digits, so "СН-616", "ch616" and "CH 616" are the same code.
func NormalizeSKU(s string) string {
	s = strings.ToUpper(textnorm.Fold(s))
	var b strings.Builder
	prev := 0 // 0 sep, 1 letter, 2 digit
	for _, r := range s {
		k := 0
		switch {
		case unicode.IsDigit(r):
			k = 2
		case unicode.IsLetter(r):
			k = 1
		}
		if k == 0 {
			prev = 0
			continue
		}
		if b.Len() > 0 && (prev == 0 || prev != k) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = k
	}
	return b.String()
}

// Words that look like the letter part of a model code but are not ("to 600", "under 700",
// "AED 500", "SO-00019", "x 12").
var notSKUPrefix = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`TO FROM UNDER OVER BELOW ABOVE FOR AND OR OF THE IS ARE ABOUT AROUND MAX MIN
		BUDGET PRICE BETWEEN UPTO ONLY JUST NEED WANT AED DHS DH DIRHAM DIRHAMS USD X QTY PCS PC UNITS UNIT CM MM M KG
		SO NOOR FOR PER EACH LESS THAN MORE AT LEAST NEAR WITHIN APPROX ABT WE I ME MY OUR NEEDS ORDER ORDERS
		PEOPLE PERSON PERSONS PAX SEATS SEAT STAFF DAYS DAY WEEKS HOURS FLOOR OFFICE ROOM ROOMS NO NUMBER CALL
		IN ON AT BY WITH TOTAL VAT ITEMS ITEM CHAIRS CHAIR DESKS DESK TABLES TABLE OK YES HI HELLO`) {
		notSKUPrefix[w] = true
	}
}

// skuPattern finds model codes: 1–6 letters, an optional separator, 2–5 digits, then
// optional short suffix tokens that SKUs carry ("V", "M", "NEW", "ERGO").
var skuPattern = regexp.MustCompile(`(?i)\b([a-z]{1,6})[ \-.]?(\d{2,5})\b((?:[ \-](?:new|ergo|v|m|t|s|l))*)`)

type codeSpan struct {
	code       string
	start, end int
}

func skuSpans(text string) []codeSpan {
	folded := textnorm.Fold(text)
	var out []codeSpan
	for _, m := range skuPattern.FindAllStringSubmatchIndex(folded, -1) {
		letters := strings.ToUpper(folded[m[2]:m[3]])
		if notSKUPrefix[letters] {
			continue
		}
		out = append(out, codeSpan{code: NormalizeSKU(folded[m[0]:m[1]]), start: m[0], end: m[1]})
	}
	return out
}

// ParseQuery extracts structured filters from a customer's words, deterministically:
// price limits ("under 700 AED", "between 500 and 900", "from 500 to 600 AED", "أقل من ٧٠٠
// درهم"), colour and category words in English and Arabic, in-stock wording and a model
// code ("CH 616" is a SKU, never a quantity). The remaining text (without the price and
// stock phrases) is returned for ranking. The SKU is a candidate; Retriever.Search
// confirms it against the catalog.
func ParseQuery(text string) (Filters, string) {
	f := Filters{Source: "parser"}
	folded := textnorm.Fold(text)
	// Model codes first, so their digits are never read as prices or quantities.
	spans := skuSpans(folded)
	masked := []byte(folded)
	for _, s := range spans {
		for i := s.start; i < s.end; i++ {
			masked[i] = ' '
		}
	}
	if len(spans) > 0 {
		f.SKU = spans[0].code
	}
	work := strings.ToLower(string(masked))
	remaining := strings.ToLower(folded)

	work, remaining = parsePrice(work, remaining, &f)
	if stockPattern.MatchString(work) {
		f.InStockOnly = true
		remaining = stockPattern.ReplaceAllString(remaining, " ")
	}
	words := queryWords(work)
	f.Colour = colourOf(words)
	f.Category = categoryOf(words)
	return f, strings.Join(strings.Fields(remaining), " ")
}

// number: digits with thousands separators or decimals, optionally "k".
const num = `(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k\b)?`

// cur: currency words after a number (optional).
const cur = `(?:\s*(?:aed|dhs?|dirhams?|درهم|دراهم|د\.?إ))?`

var (
	rangePattern = regexp.MustCompile(`(?:between|from|بين|من)\s*` + num + cur + `\s*(?:and|to|-|–|و|الى|إلى|الي|حتى)\s*` + num + cur)
	dashRange    = regexp.MustCompile(num + `\s*(?:-|–|to)\s*` + num + `\s*(?:aed|dhs?|dirhams?|درهم)`)
	maxPattern   = regexp.MustCompile(`(?:under|below|less than|cheaper than|up to|upto|max(?:imum)?|within|not more than|no more than|at most|budget(?: is| of)?(?: around| about)?|<|≤|اقل من|أقل من|تحت|حتى|لا يتجاوز|بحد اقصى|بحد أقصى|ميزانيه|ميزانية|في حدود|بحدود)\s*(?:aed|dhs?)?\s*` + num + cur)
	minPattern   = regexp.MustCompile(`(?:over|above|more than|at least|min(?:imum)?|starting (?:at|from)|>|≥|اكثر من|أكثر من|فوق|لا يقل عن)\s*(?:aed|dhs?)?\s*` + num + cur)
	aroundPat    = regexp.MustCompile(`(?:around|about|approximately|approx\.?|roughly|~|حوالي|تقريبا)\s*(?:aed|dhs?)?\s*` + num + cur)
	currencyNum  = regexp.MustCompile(`(?:aed|dhs?)\s*` + num + `|` + num + `\s*(?:aed|dhs?|dirhams?|درهم)`)
	stockPattern = regexp.MustCompile(`\b(?:in[ -]stock|ready stock|available now|available immediately|in stock now|ready to ship|ready for delivery)\b|في المخزون|متوفر حاليا|متوفره حاليا|جاهز للتسليم|متوفر الان`)
	// A number followed by one of these counts things, not dirhams.
	countUnit = regexp.MustCompile(`^\s*(?:people|persons?|pax|seats?|staff|employees|users|units?|pcs|pieces|chairs?|desks?|tables?|cm|mm|m\b|kg|days?|weeks?|x\b|شخص|اشخاص|أشخاص|موظف|كرسي|قطعه|قطعة)`)
)

func parseNum(s, k string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		return 0, false
	}
	if k != "" {
		v *= 1000
	}
	return v, true
}

// parsePrice applies the first price expression found and removes it from remaining.
func parsePrice(work, remaining string, f *Filters) (string, string) {
	cut := func(loc []int) {
		phrase := work[loc[0]:loc[1]]
		work = work[:loc[0]] + strings.Repeat(" ", loc[1]-loc[0]) + work[loc[1]:]
		remaining = strings.Replace(remaining, phrase, " ", 1)
	}
	isCount := func(end int) bool { return countUnit.MatchString(work[end:]) }
	if m := rangePattern.FindStringSubmatchIndex(work); m != nil && !isCount(m[1]) {
		lo, ok1 := parseNum(work[m[2]:m[3]], sub(work, m, 2))
		hi, ok2 := parseNum(work[m[6]:m[7]], sub(work, m, 4))
		if ok1 && ok2 {
			if lo > hi {
				lo, hi = hi, lo
			}
			f.MinPrice, f.MaxPrice = &lo, &hi
			cut(m[:2])
			return work, remaining
		}
	}
	if m := dashRange.FindStringSubmatchIndex(work); m != nil {
		lo, ok1 := parseNum(work[m[2]:m[3]], sub(work, m, 2))
		hi, ok2 := parseNum(work[m[6]:m[7]], sub(work, m, 4))
		if ok1 && ok2 && lo <= hi {
			f.MinPrice, f.MaxPrice = &lo, &hi
			cut(m[:2])
			return work, remaining
		}
	}
	if m := maxPattern.FindStringSubmatchIndex(work); m != nil && !isCount(m[1]) {
		if v, ok := parseNum(work[m[2]:m[3]], sub(work, m, 2)); ok {
			f.MaxPrice = &v
			cut(m[:2])
		}
	}
	if m := minPattern.FindStringSubmatchIndex(work); m != nil && !isCount(m[1]) {
		if v, ok := parseNum(work[m[2]:m[3]], sub(work, m, 2)); ok {
			f.MinPrice = &v
			cut(m[:2])
		}
	}
	if f.MinPrice == nil && f.MaxPrice == nil {
		if m := aroundPat.FindStringSubmatchIndex(work); m != nil && !isCount(m[1]) {
			if v, ok := parseNum(work[m[2]:m[3]], sub(work, m, 2)); ok {
				lo, hi := v*0.8, v*1.2
				f.MinPrice, f.MaxPrice = &lo, &hi
				cut(m[:2])
			}
		} else if m := currencyNum.FindStringSubmatchIndex(work); m != nil {
			// A bare "700 AED": a budget ceiling.
			s, k := sub(work, m, 1), sub(work, m, 2)
			if s == "" {
				s, k = sub(work, m, 3), sub(work, m, 4)
			}
			if v, ok := parseNum(s, k); ok {
				f.MaxPrice = &v
				cut(m[:2])
			}
		}
	}
	return work, remaining
}

// sub returns capture group g of a FindStringSubmatchIndex result, or "".
func sub(s string, m []int, g int) string {
	if 2*g+1 >= len(m) || m[2*g] < 0 {
		return ""
	}
	return s[m[2*g]:m[2*g+1]]
}

// queryWords are normalised words (Arabic without the article, English singular).
func queryWords(s string) []string { return embed.Words(s) }

var colours = map[string]string{
	"black": "black", "white": "white", "grey": "grey", "gray": "grey", "blue": "blue", "red": "red",
	"walnut": "walnut", "oak": "oak", "chrome": "chrome", "green": "green", "beige": "beige", "brown": "walnut",
	"اسود": "black", "سوداء": "black", "سود": "black", "ابيض": "white", "بيضاء": "white", "بيض": "white",
	"رمادي": "grey", "رماديه": "grey", "ازرق": "blue", "زرقاء": "blue", "احمر": "red", "حمراء": "red",
	"بني": "walnut", "خضراء": "green", "اخضر": "green",
}

func colourOf(words []string) string {
	for _, w := range words {
		if c, ok := colours[w]; ok {
			return c
		}
	}
	return ""
}

// categoryRules map word sequences (normalised like queryWords) to category slugs, most
// specific first. A leaf beats its parent; two unrelated categories cancel each other
// ("a desk and a chair" is not a filter, the ranking handles it).
var categoryRules = []struct {
	phrase []string
	slug   string
}{}

var categoryParent = map[string]string{
	"executive-chair": "chairs", "operative-chair": "chairs", "visitor-chair": "chairs", "gaming-ergonomic-chair": "chairs",
	"single-desks": "desks-tables", "meeting-tables": "desks-tables", "height-adjustable-desks": "desks-tables", "l-shape-manager-desks": "desks-tables",
	"single-workstations": "workstations", "2-person-workstations": "workstations", "4-person-workstations": "workstations",
	"pedestals": "storage", "cabinets": "storage", "lockers": "storage",
	"reception-counters": "reception-desks", "acoustic-pods": "acoustic-pods-booths", "lounge-sofas": "sofas-lounge",
	"desk-accessories": "accessories", "ergonomic-accessories": "accessories", "acoustic-panels-screens": "partitions-acoustic-panels",
	"planters": "planters-decor", "cafeteria-furniture": "outdoor-cafeteria",
}

func init() {
	add := func(slug string, phrases ...string) {
		for _, p := range phrases {
			categoryRules = append(categoryRules, struct {
				phrase []string
				slug   string
			}{queryWords(p), slug})
		}
	}
	add("executive-chair", "executive chair", "manager chair", "managers chair", "boss chair", "director chair", "ceo chair",
		"executive office chair", "high back chair", "كرسي تنفيذي", "كرسي مدير", "كرسي مكتب تنفيذي", "كرسي المدير", "كراسي تنفيذية", "كراسي مدراء")
	add("operative-chair", "operative chair", "task chair", "operator chair", "staff chair", "employee chair", "team chair",
		"call centre chair", "call center chair", "كرسي موظف", "كراسي موظفين", "كرسي موظفين")
	add("visitor-chair", "visitor chair", "guest chair", "meeting chair", "conference chair", "training chair",
		"waiting chair", "waiting area chair", "stackable chair", "cantilever chair", "كرسي زوار", "كراسي زوار", "كرسي انتظار",
		"كراسي انتظار", "كراسي اجتماعات", "كرسي اجتماعات", "كرسي ضيوف")
	add("gaming-ergonomic-chair", "gaming chair", "kneeling chair", "gamer chair", "كرسي العاب", "كرسي جيمنج", "كراسي العاب")
	add("chairs", "chair", "seat", "seating", "armchair office", "كرسي", "كراسي", "مقعد", "مقاعد")
	add("height-adjustable-desks", "standing desk", "stand up desk", "sit stand", "sit-stand", "height adjustable",
		"adjustable desk", "electric desk", "motorized desk", "motorised desk", "مكتب قابل للتعديل", "مكتب وقوف", "مكتب كهربائي",
		"مكاتب قابله للتعديل", "مكتب متحرك الارتفاع")
	add("l-shape-manager-desks", "l shape desk", "l-shape desk", "l shaped desk", "manager desk", "executive desk", "corner desk",
		"director desk", "مكتب مدير", "مكتب تنفيذي", "مكتب على شكل l")
	add("meeting-tables", "meeting table", "conference table", "boardroom table", "boardroom", "round meeting table",
		"طاولة اجتماعات", "طاولات اجتماعات", "طاولة اجتماع", "طاولة مؤتمرات", "طاوله اجتماعات")
	add("single-desks", "computer desk", "study desk", "single desk", "writing desk", "compact desk", "home office desk")
	add("desks-tables", "desk", "desks", "مكتب عمل", "مكاتب")
	add("single-workstations", "single workstation", "one person workstation", "1 person workstation")
	add("2-person-workstations", "2 person workstation", "two person workstation", "2-person workstation", "2 seater workstation", "cluster of 2")
	add("4-person-workstations", "4 person workstation", "four person workstation", "4-person workstation", "4 seater workstation", "cluster of 4")
	add("workstations", "workstation", "work station", "cluster", "bench desk", "open plan", "محطة عمل", "محطات عمل")
	add("pedestals", "pedestal", "drawer unit", "mobile drawer", "mobile pedestal", "درج", "ادراج", "وحدة ادراج")
	add("cabinets", "cabinet", "cupboard", "credenza", "filing cabinet", "bookcase", "file cabinet", "خزانة", "خزائن", "دولاب", "خزانه ملفات")
	add("lockers", "locker", "lockers", "staff locker", "لوكر", "خزائن حديد", "خزائن موظفين")
	add("storage", "storage", "تخزين")
	add("reception-desks", "reception desk", "reception counter", "front desk", "reception", "مكتب استقبال", "استقبال", "كاونتر")
	add("acoustic-pods-booths", "phone booth", "acoustic pod", "meeting pod", "work pod", "booth", "pod", "كبينة", "كابينة", "بود", "كبينه عازله")
	add("sofas-lounge", "sofa", "couch", "lounge", "armchair", "pouf", "كنبة", "كنب", "اريكة", "ارائك", "صوفا")
	add("desk-accessories", "monitor arm", "cable tray", "cable management", "desk lamp", "lamp", "cable spine", "ذراع شاشة", "مصباح")
	add("ergonomic-accessories", "footrest", "foot rest", "lumbar cushion", "lumbar support", "مسند قدم")
	add("accessories", "accessory", "accessories", "اكسسوارات")
	add("partitions-acoustic-panels", "acoustic panel", "partition", "divider", "desk screen", "privacy screen", "acoustic", "فاصل", "قواطع", "عازل صوت", "الواح صوتية")
	add("planters-decor", "planter", "plant", "moss wall", "decor", "greenery", "نبات", "نباتات", "زرع")
	add("cafeteria-furniture", "cafeteria chair", "cafe chair", "canteen chair", "cafeteria table", "كرسي كافتيريا", "كراسي كافتيريا")
	add("outdoor-cafeteria", "cafeteria", "canteen", "bar stool", "stool", "cafe", "pantry", "كافتيريا", "مطبخ")
	// Longest phrases first, so "executive chair" wins over "chair".
	for i := 1; i < len(categoryRules); i++ {
		for j := i; j > 0 && len(categoryRules[j].phrase) > len(categoryRules[j-1].phrase); j-- {
			categoryRules[j], categoryRules[j-1] = categoryRules[j-1], categoryRules[j]
		}
	}
}

func topOf(slug string) string {
	if p, ok := categoryParent[slug]; ok {
		return p
	}
	return slug
}

func categoryOf(words []string) string {
	used := make([]bool, len(words))
	var found []string
	for _, rule := range categoryRules {
		n := len(rule.phrase)
		if n == 0 {
			continue
		}
		for i := 0; i+n <= len(words); i++ {
			match := true
			for k := 0; k < n; k++ {
				if used[i+k] || words[i+k] != rule.phrase[k] {
					match = false
					break
				}
			}
			if match {
				for k := 0; k < n; k++ {
					used[i+k] = true
				}
				found = append(found, rule.slug)
			}
		}
	}
	if len(found) == 0 {
		return ""
	}
	best := found[0]
	for _, s := range found[1:] {
		if topOf(s) != topOf(best) {
			return ""
		}
		// Same family: keep the leaf.
		if topOf(s) != s && topOf(best) == best {
			best = s
		}
	}
	return best
}
