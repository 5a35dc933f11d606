package anomaly

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/config"
)

// emptyOutput flags a successful answer with no text, no tool call and no
// explicit refusal.
type emptyOutput struct{}

func (emptyOutput) Name() string { return config.DetectorEmptyOutput }

func (emptyOutput) Detect(c *Call) bool {
	if !c.Content() {
		return false
	}
	o := c.Output()
	return o.Parsed && o.Complete && strings.TrimSpace(o.Text) == "" && len(o.ToolArgs) == 0 &&
		o.Refusal == "" && o.Finish != FinishRefusal && o.Finish != FinishContentFilter
}

// truncated flags an answer cut at the token limit (finish reason length,
// stop reason max_tokens, status incomplete).
type truncated struct{}

func (truncated) Name() string { return config.DetectorTruncated }

func (truncated) Detect(c *Call) bool { return c.Content() && c.Output().Finish == FinishLength }

// contentFilter flags an answer stopped by the provider's content filter.
type contentFilter struct{}

func (contentFilter) Name() string { return config.DetectorContentFilter }

func (contentFilter) Detect(c *Call) bool {
	return c.Content() && c.Output().Finish == FinishContentFilter
}

// refusalWindow is how far into an answer, in bytes, a refusal phrase
// counts: a model declines in its first sentence; further on, a phrase is
// more likely quoted or part of an explanation.
const refusalWindow = 200

// refusal flags an answer the upstream marked as a refusal, or that opens
// with a refusal phrase not in quotes, unless the question itself was about
// refusals or asked for a translation (the phrase is then the answer).
type refusal struct {
	// byWord holds the phrases by their first word, so that a text is
	// scanned once, word by word, rather than once per phrase.
	byWord map[string][]string
	// others are the phrases not starting with a letter word (Chinese,
	// Japanese), searched for as they are.
	others []string
}

func newRefusal(cfg *config.RefusalDetector) *refusal {
	var phrases []string
	if cfg == nil || !cfg.ReplaceDefaults {
		phrases = append(phrases, defaultRefusalPhrases...)
	}
	if cfg != nil {
		for _, p := range cfg.Phrases {
			phrases = append(phrases, string(lowerInto(nil, strings.TrimSpace(p))))
		}
	}
	d := &refusal{byWord: map[string][]string{}}
	for _, p := range phrases {
		if w := firstWord(p); w != "" && !isIdeographicString(w) {
			d.byWord[w] = append(d.byWord[w], p)
		} else {
			d.others = append(d.others, p)
		}
	}
	return d
}

// firstWord is the leading run of s up to a space or punctuation other
// than an apostrophe or hyphen inside a word.
func firstWord(s string) string {
	for i, r := range s {
		if r == '\'' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			continue
		}
		return s[:i]
	}
	return s
}

func isIdeographicString(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isIdeographic(r)
}

func (*refusal) Name() string { return config.DetectorRefusal }

func (d *refusal) Detect(c *Call) bool {
	if !c.Content() {
		return false
	}
	o := c.Output()
	if o.Refusal != "" || o.Finish == FinishRefusal {
		return true
	}
	head := strings.TrimLeft(o.Text, " \t\r\n*#>_\"")
	if head == "" {
		return false
	}
	head = head[:min(len(head), refusalWindow+64)]
	s := c.s
	s.lower = lowerInto(s.lower[:0], head)
	at, _ := d.find(string(s.lower), refusalWindow)
	if at < 0 {
		return false
	}
	// The user asked about a refusal, or for a translation: the phrase may
	// be what was asked for.
	user := c.Request().LastUser
	if user != "" {
		s.lower = lowerInto(s.lower[:0], user[:min(len(user), 4096)])
		u := string(s.lower)
		if mentionsTranslation(u) {
			return false
		}
		if i, _ := d.find(u, len(u)); i >= 0 {
			return false
		}
	}
	return true
}

// find returns where the first unquoted phrase starts in text, before
// limit, or -1.
func (d *refusal) find(text string, limit int) (int, string) {
	best, phrase := -1, ""
	for i := 0; i < len(text) && i < limit; {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) || isIdeographic(r) {
			i += n
			continue
		}
		w := firstWord(text[i:])
		for _, p := range d.byWord[w] {
			if strings.HasPrefix(text[i:], p) && !quoted(text[:i]) {
				best, phrase = i, p
				break
			}
		}
		if best >= 0 {
			break
		}
		i += len(w)
	}
	if len(d.others) == 0 || !hasIdeographic(text[:min(len(text), limit)]) {
		return best, phrase
	}
	for _, p := range d.others {
		from := 0
		for {
			i := strings.Index(text[from:], p)
			if i < 0 {
				break
			}
			i += from
			if i >= limit {
				break
			}
			if !quoted(text[:i]) {
				if best < 0 || i < best {
					best, phrase = i, p
				}
				break
			}
			from = i + len(p)
		}
	}
	return best, phrase
}

// hasIdeographic reports whether s holds a Chinese, Japanese, Korean or
// Thai character, cheaply: they are all encoded on three bytes.
func hasIdeographic(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xE0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			if isIdeographic(r) {
				return true
			}
		}
	}
	return false
}

// quoted reports whether the text before a phrase opens a quotation or
// announces one (a colon): the phrase is then cited, not said.
func quoted(before string) bool {
	before = strings.TrimRight(before, " \t\r\n")
	if before == "" {
		return false
	}
	for _, q := range []string{"\"", "'", "“", "‘", "«", "„", "「", "『", ":", "：", "`", "*"} {
		if strings.HasSuffix(before, q) {
			return true
		}
	}
	// An open quotation earlier on the same line ("He said “Sorry, I can't…").
	line := before[strings.LastIndexByte(before, '\n')+1:]
	return strings.Count(line, "\"")%2 == 1 || strings.Count(line, "“") > strings.Count(line, "”") ||
		strings.Count(line, "„") > strings.Count(line, "“") ||
		strings.Count(line, "«") > strings.Count(line, "»") || strings.Count(line, "「") > strings.Count(line, "」")
}

// translationCues are words asking for a translation or naming the output
// language, in the languages the detectors know.
var translationCues = []string{
	"translat", "tradu", "übersetz", "ubersetz", "vertaal", "翻译", "翻譯", "翻訳", "번역", "перевед", "перевод",
}

func mentionsTranslation(lower string) bool {
	for _, cue := range translationCues {
		if strings.Contains(lower, cue) {
			return true
		}
	}
	return false
}

// repetition flags an answer whose word n-grams repeat earlier ones more
// than a threshold share: a model stuck in a loop. Lists, code and tables
// repeat a few n-grams at most, or are left out (see words).
type repetition struct {
	n         int
	threshold float64
	minWords  int
}

func newRepetition(cfg *config.RepetitionDetector) *repetition {
	if cfg == nil {
		cfg = &config.RepetitionDetector{}
	}
	return &repetition{
		n:         cmp.Or(cfg.Ngram, config.DefaultRepetitionNgram),
		threshold: cmp.Or(cfg.Threshold, config.DefaultRepetitionThreshold),
		minWords:  cmp.Or(cfg.MinWords, config.DefaultRepetitionMinWords),
	}
}

func (*repetition) Name() string { return config.DetectorRepetition }

func (d *repetition) Detect(c *Call) bool {
	if !c.Content() {
		return false
	}
	text := c.Output().Text
	if len(text) < d.minWords {
		return false
	}
	share, total := repeatedShare(text, d.n, c.s)
	return total+d.n-1 >= d.minWords && share > d.threshold
}

// repeatedShare returns the share of the n-grams of text's words that
// repeat an earlier n-gram, and how many n-grams there were.
func repeatedShare(text string, n int, s *scratch) (float64, int) {
	// An open-addressing set of n-gram hashes, sized for one n-gram per two
	// bytes of text at most, and reused between calls.
	size := 64
	for size < len(text) {
		size <<= 1
	}
	if cap(s.set) < size {
		s.set = make([]uint64, size)
	}
	set := s.set[:size]
	clear(set)
	mask := uint64(size - 1)
	if cap(s.ring) < n {
		s.ring = make([]uint64, n)
	}
	ring := s.ring[:n]
	w := newWords(text)
	count, total, repeated := 0, 0, 0
	for word := w.next(); word != ""; word = w.next() {
		ring[count%n] = hashWord(word)
		count++
		if count < n {
			continue
		}
		var h uint64 = 1469598103934665603
		for i := range n {
			h = (h ^ ring[(count+i)%n]) * 1099511628211
			h ^= h >> 29
		}
		h |= 1 // 0 marks an empty slot
		total++
		for i := h & mask; ; i = (i + 1) & mask {
			if set[i] == 0 {
				set[i] = h
				break
			}
			if set[i] == h {
				repeated++
				break
			}
		}
		if total*2 >= size { // keep the set at most half full
			break
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(repeated) / float64(total), total
}

// invalidJSON flags an answer that is not the JSON the request asked for,
// or a forced tool call whose arguments are not JSON. An answer wrapped in
// one Markdown code fence counts as valid: clients commonly strip it. An
// answer cut by the capture limit is not judged.
type invalidJSON struct{}

func (invalidJSON) Name() string { return config.DetectorInvalidJSON }

func (invalidJSON) Detect(c *Call) bool {
	if !c.Content() {
		return false
	}
	req := c.Request()
	if !req.WantsJSON && !req.ForcedTool {
		return false
	}
	o := c.Output()
	if !o.Parsed || !o.Complete || o.Refusal != "" || o.Finish == FinishRefusal || o.Finish == FinishContentFilter {
		return false
	}
	if req.ForcedTool && len(o.ToolArgs) > 0 {
		for _, a := range o.ToolArgs {
			if !gjson.Valid(strings.TrimSpace(a)) {
				return true
			}
		}
		return false
	}
	if !req.WantsJSON {
		return false
	}
	text := strings.TrimSpace(o.Text)
	if text == "" {
		return false // empty_output says it
	}
	return !gjson.Valid(unfence(text))
}

// unfence removes one Markdown code fence around text.
func unfence(text string) string {
	if !strings.HasPrefix(text, "```") || !strings.HasSuffix(text, "```") || len(text) < 6 {
		return text
	}
	body := text[3 : len(text)-3]
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:] // the info string (json)
	} else {
		body = strings.TrimPrefix(body, "json")
	}
	return strings.TrimSpace(body)
}
