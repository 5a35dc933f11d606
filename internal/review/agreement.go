package review

import (
	"slices"
	"strconv"

	"github.com/hypergate/hypergate/internal/feedback"
)

// Agreement is how often reviewers of the same items agree on one
// dimension.
//
// Rate is the share of items, among those with values from at least two
// reviewers, on which every reviewer gave the same value.
//
// Kappa is Fleiss' kappa, the agreement beyond what chance would give,
// over the items that have exactly Raters values (the queue's
// reviews_per_item). Values are categories compared exactly (a 1-5 rating
// is five categories). With N items, n raters per item, and n_ij the
// number of raters who put item i in category j:
//
//	p_j = Σ_i n_ij / (N·n)                     share of all ratings in j
//	P_i = (Σ_j n_ij² − n) / (n·(n − 1))        agreeing rater pairs on item i
//	P̄   = Σ_i P_i / N,   P̄e = Σ_j p_j²
//	κ   = (P̄ − P̄e) / (1 − P̄e)
//
// κ is 1 for perfect agreement, 0 for chance level and negative below it.
// It is left out when it is undefined: fewer than two such items, or every
// rating in one category (P̄e = 1). Fleiss' kappa fits review queues
// because the reviewers of one item are not the same people as those of
// the next; for two raters per item it equals Scott's pi.
type Agreement struct {
	Dimension string `json:"dimension"`
	// Items is how many items have values from two reviewers or more on
	// this dimension; Agreed how many of them have one value.
	Items  int      `json:"items"`
	Agreed int      `json:"agreed"`
	Rate   *float64 `json:"rate,omitempty"`
	// Raters is the n of Kappa, KappaItems its N.
	Raters     int      `json:"raters"`
	KappaItems int      `json:"kappa_items"`
	Kappa      *float64 `json:"kappa,omitempty"`
}

// Agree computes the agreement on each dimension from the completed
// reviews of a queue whose items each need raters reviews.
func Agree(reviews []Review, dimensions []string, raters int) []Agreement {
	byItem := map[string][]Review{}
	var order []string
	for _, r := range reviews {
		if r.Outcome != OutcomeCompleted {
			continue
		}
		if _, ok := byItem[r.ItemID]; !ok {
			order = append(order, r.ItemID)
		}
		byItem[r.ItemID] = append(byItem[r.ItemID], r)
	}
	slices.Sort(order)
	out := make([]Agreement, 0, len(dimensions))
	for _, dim := range dimensions {
		a := Agreement{Dimension: dim, Raters: raters}
		var table [][]string // the values of each item with exactly raters values
		for _, id := range order {
			var vals []string
			for _, r := range byItem[id] {
				if v, ok := r.Scores[dim]; ok {
					vals = append(vals, category(v))
				}
			}
			if len(vals) < 2 {
				continue
			}
			a.Items++
			if allSame(vals) {
				a.Agreed++
			}
			if len(vals) == raters {
				table = append(table, vals)
			}
		}
		if a.Items > 0 {
			rate := float64(a.Agreed) / float64(a.Items)
			a.Rate = &rate
		}
		a.KappaItems = len(table)
		if k, ok := FleissKappa(table); ok {
			a.Kappa = &k
		}
		out = append(out, a)
	}
	return out
}

// FleissKappa computes Fleiss' kappa (see Agreement) over items that each
// hold the same number (two or more) of categorical ratings. ok is false
// when kappa is undefined.
func FleissKappa(items [][]string) (kappa float64, ok bool) {
	if len(items) < 2 {
		return 0, false
	}
	n := len(items[0])
	if n < 2 {
		return 0, false
	}
	totals := map[string]float64{}
	var sumP float64
	for _, it := range items {
		if len(it) != n {
			return 0, false
		}
		counts := map[string]int{}
		for _, c := range it {
			counts[c]++
			totals[c]++
		}
		var sq int
		for _, k := range counts {
			sq += k * k
		}
		sumP += float64(sq-n) / float64(n*(n-1))
	}
	N := float64(len(items))
	pBar := sumP / N
	var pe float64
	for _, t := range totals {
		p := t / (N * float64(n))
		pe += p * p
	}
	if pe >= 1 {
		return 0, false
	}
	return (pBar - pe) / (1 - pe), true
}

// category is a value as a category: its kind and its value, exactly.
func category(v feedback.Value) string {
	switch v.Kind {
	case feedback.String:
		return "s:" + v.Str
	case feedback.Boolean:
		return "b:" + strconv.FormatBool(v.Num != 0)
	}
	return "n:" + strconv.FormatFloat(v.Num, 'g', -1, 64)
}

func allSame(vals []string) bool {
	for _, v := range vals[1:] {
		if v != vals[0] {
			return false
		}
	}
	return true
}
