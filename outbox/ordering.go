package outbox

// SelectHeads keeps, from candidates in seq order, the effects that may be
// claimed under the ordering-key rule: effects without a key, and for each
// key only the effect whose seq is the key's head — heads[key] is the lowest
// seq among the key's unfinished effects (Status.Unfinished). A candidate
// whose key is missing from heads is dropped: when in doubt, wait.
func SelectHeads(candidates []Effect, heads map[string]int64) []Effect {
	out := candidates[:0:0]
	for _, c := range candidates {
		if c.OrderingKey == "" {
			out = append(out, c)
			continue
		}
		if h, ok := heads[c.OrderingKey]; ok && h == c.Seq {
			out = append(out, c)
		}
	}
	return out
}
