package anomaly

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hypergate/hypergate/internal/config"
)

// languageMismatch flags an answer written in another language than the
// last user message. Both must be long enough to tell, and the detector
// stays silent when the conversation names a language or asks for a
// translation: the other language is then what was asked for.
type languageMismatch struct {
	minLetters int
}

func newLanguageMismatch(cfg *config.LanguageDetector) *languageMismatch {
	if cfg == nil {
		cfg = &config.LanguageDetector{}
	}
	return &languageMismatch{minLetters: cmp.Or(cfg.MinLetters, config.DefaultLanguageMinLetters)}
}

func (*languageMismatch) Name() string { return config.DetectorLanguageMismatch }

func (d *languageMismatch) Detect(c *Call) bool {
	if !c.Content() {
		return false
	}
	o := c.Output()
	if len(o.Text) < d.minLetters || o.Refusal != "" {
		return false
	}
	req := c.Request()
	if len(req.LastUser) < d.minLetters {
		return false
	}
	asked, ok := detectLanguage(req.LastUser, d.minLetters, c.s)
	if !ok {
		return false
	}
	answered, ok := detectLanguage(o.Text, d.minLetters, c.s)
	if !ok || asked == answered {
		return false
	}
	s := c.s
	for _, t := range []string{req.LastUser, req.System} {
		s.lower = lowerInto(s.lower[:0], t[:min(len(t), 8192)])
		if mentionsTranslation(string(s.lower)) || mentionsLanguage(string(s.lower)) {
			return false
		}
	}
	return true
}

// The languages told apart. Latin-script languages are told by their
// common words; the others by their script alone.
const (
	langEN = "en"
	langFR = "fr"
	langDE = "de"
	langES = "es"
	langPT = "pt"
	langIT = "it"
	langNL = "nl"
	langZH = "zh"
	langJA = "ja"
	langKO = "ko"
	langRU = "ru" // any Cyrillic text
	langEL = "el"
	langAR = "ar"
	langHE = "he"
	langTH = "th"
	langHI = "hi"
)

// latinLangs are the languages told by stopwords, in bit order.
var latinLangs = []string{langEN, langFR, langDE, langES, langPT, langIT, langNL}

// stopwords maps a common word to the bit set of latinLangs it belongs to.
var stopwords = func() map[string]uint8 {
	lists := [][]string{
		strings.Fields("the and is are was were of to that it for with you this have has be not on your what how can will would should there their they which from about my me do does we an if or but been being these those"),
		strings.Fields("le la les des est sont et un une du de que qui pour dans pas vous nous je il elle ce cette avec sur mais ou au aux son sa ses mon votre être avoir fait comment quel quelle peux très plus aussi leur sont ont"),
		strings.Fields("der die das und ist sind nicht ein eine einen zu den dem mit sich auf für von ich sie es wir ihr auch wie was aber oder wenn noch kann können bitte mein meine haben hat werden wird bei nach über dass"),
		strings.Fields("el la los las es son y un una de que en por para con no se lo del al como pero más este esta está están muy también puedo puedes qué cómo mi tu su hay ser estoy tengo cuando donde porque"),
		strings.Fields("o a os as é são e um uma de que em para com não se do da dos das no na como mas mais este esta está muito também posso pode você meu minha seu sua tem ser estou quando onde isso porque"),
		strings.Fields("il lo la gli le è sono e un una di che in per con non si del della dei delle al come ma più questo questa molto anche posso puoi mio mia suo sua ho ha essere quando dove perché cosa"),
		strings.Fields("de het een en is zijn van dat die niet op met voor te er ik je u we ze wat hoe maar ook nog kan kunnen mijn jouw uw hebben heeft worden wordt bij naar over als dit deze"),
	}
	m := map[string]uint8{}
	for i, l := range lists {
		for _, w := range l {
			m[w] |= 1 << i
		}
	}
	return m
}()

// script classes counted by detectLanguage.
const (
	scriptLatin = iota
	scriptCJK   // Han and Kana
	scriptHangul
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHebrew
	scriptThai
	scriptDevanagari
	scriptOther
	numScripts
)

func scriptOf(r rune) int {
	switch {
	case r < 0x250:
		return scriptLatin
	case r >= 0x3040 && r <= 0x30FF, r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xF900 && r <= 0xFAFF:
		return scriptCJK
	case r >= 0xAC00 && r <= 0xD7AF, r >= 0x1100 && r <= 0x11FF:
		return scriptHangul
	case r >= 0x400 && r <= 0x52F:
		return scriptCyrillic
	case r >= 0x370 && r <= 0x3FF:
		return scriptGreek
	case r >= 0x600 && r <= 0x6FF, r >= 0x750 && r <= 0x77F:
		return scriptArabic
	case r >= 0x590 && r <= 0x5FF:
		return scriptHebrew
	case r >= 0xE00 && r <= 0xE7F:
		return scriptThai
	case r >= 0x900 && r <= 0x97F:
		return scriptDevanagari
	}
	return scriptOther
}

// langSample is how much of a text detectLanguage reads, in bytes.
const langSample = 1200

// detectLanguage returns the language of text's prose (code left out), and
// whether it is sure: at least minLetters letters, one script well ahead of
// any other, and for Latin script a clear lead in common words.
func detectLanguage(text string, minLetters int, s *scratch) (string, bool) {
	// The first kilobyte or so tells a language as well as the whole.
	if len(text) > langSample {
		cut := langSample
		for cut < len(text) && !utf8.RuneStart(text[cut]) {
			cut++
		}
		text = text[:cut]
	}
	var scripts [numScripts]int
	var hits [7]int
	kana, letters := 0, 0
	w := newWords(text)
	for word := w.next(); word != ""; word = w.next() {
		r, _ := utf8.DecodeRuneInString(word)
		sc := scriptOf(r)
		n := utf8.RuneCountInString(word)
		if !unicode.IsLetter(r) {
			continue
		}
		scripts[sc] += n
		letters += n
		if sc == scriptCJK && r >= 0x3040 && r <= 0x30FF {
			kana++
		}
		if sc == scriptLatin && len(word) <= 12 {
			key := word
			if !isLowerASCII(word) {
				s.lower = lowerInto(s.lower[:0], word)
				key = string(s.lower)
			}
			if bits, ok := stopwords[key]; ok {
				for i := range hits {
					if bits&(1<<i) != 0 {
						hits[i]++
					}
				}
			}
		}
	}
	if letters < minLetters {
		return "", false
	}
	best, second := 0, 0
	for i := 1; i < numScripts; i++ {
		if scripts[i] > scripts[best] {
			second, best = best, i
		} else if i != best && scripts[i] > scripts[second] {
			second = i
		}
	}
	if best == second {
		second = -1
	}
	// A second script with a quarter of the letters makes a mixed text,
	// e.g. a question about a document in another language.
	if second >= 0 && scripts[second]*4 >= letters {
		return "", false
	}
	switch best {
	case scriptCJK:
		if kana*20 >= scripts[scriptCJK] {
			return langJA, true
		}
		return langZH, true
	case scriptHangul:
		return langKO, true
	case scriptCyrillic:
		return langRU, true
	case scriptGreek:
		return langEL, true
	case scriptArabic:
		return langAR, true
	case scriptHebrew:
		return langHE, true
	case scriptThai:
		return langTH, true
	case scriptDevanagari:
		return langHI, true
	case scriptOther:
		return "", false
	}
	b, sec := 0, -1
	for i := 1; i < len(hits); i++ {
		if hits[i] > hits[b] {
			b = i
		}
	}
	for i := range hits {
		if i != b && (sec < 0 || hits[i] > hits[sec]) {
			sec = i
		}
	}
	// Sure only with a few common words and a clear lead over the
	// runner-up, which shares many of them in the Romance languages.
	if hits[b] < 3 || hits[b]-hits[sec] < 2 || float64(hits[b]) < 1.3*float64(hits[sec]) {
		return "", false
	}
	return latinLangs[b], true
}

func isLowerASCII(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// languageNames name languages in the languages the detector knows; a
// conversation naming one may well ask for an answer in it.
var languageNames = []string{
	"english", "anglais", "englisch", "inglés", "ingles", "inglês", "inglese", "engels", "英语", "英語", "英文",
	"french", "français", "francais", "französisch", "francés", "francês", "francese", "frans", "法语", "法語", "フランス語",
	"german", "allemand", "deutsch", "alemán", "alemão", "tedesco", "duits", "德语", "德語", "ドイツ語",
	"spanish", "espagnol", "spanisch", "español", "espanhol", "spagnolo", "spaans", "西班牙语", "スペイン語",
	"portuguese", "portugais", "portugiesisch", "portugués", "português", "portoghese", "portugees", "葡萄牙语", "ポルトガル語",
	"italian", "italien", "italiano", "italiaans", "意大利语", "イタリア語",
	"dutch", "néerlandais", "niederländisch", "neerlandés", "holandês", "olandese", "nederlands", "荷兰语", "オランダ語",
	"chinese", "chinois", "chinesisch", "chino", "chinês", "cinese", "chinees", "中文", "汉语", "漢語", "中国語",
	"japanese", "japonais", "japanisch", "japonés", "japonês", "giapponese", "japans", "日语", "日文", "日本語",
	"korean", "coréen", "koreanisch", "coreano", "koreaans", "韩语", "韓国語", "한국어",
	"russian", "russe", "russisch", "ruso", "russo", "俄语", "ロシア語", "русск",
	"arabic", "arabe", "arabisch", "árabe", "arabo", "阿拉伯语", "greek", "hebrew", "hindi", "thai",
}

func mentionsLanguage(lower string) bool {
	for _, n := range languageNames {
		if strings.Contains(lower, n) {
			return true
		}
	}
	return false
}
