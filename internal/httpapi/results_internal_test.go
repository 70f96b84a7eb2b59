package httpapi

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/apformation/certapi/internal/service"
)

// FuzzResultCursors checks the cursors of the results feed (and of the
// certificates, which follow it) and of the statistics. For any string, reading it
//   - never panics;
//   - accepts exactly what the encoders issue: what was read, encoded again, is the
//     cursor given, so that no other spelling (padding, line breaks, stray bits,
//     leading zeros) names a place in a list;
//   - gives a feed position that is never negative.
func FuzzResultCursors(f *testing.F) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, seed := range []string{
		"", encodeSequence(context.Background(), 0), encodeSequence(context.Background(), 1), encodeSequence(context.Background(), 42), encodeSequence(context.Background(), 1<<63-1),
		raw("01"), raw("-1"), raw("+1"), raw(" 1"), raw("1 "), raw("1e3"), raw("9223372036854775808"), raw("99999999999999999999"),
		"MQ==", "MQ\n", "MR", "!!", raw("00000000-0000-7000-8000-00000000b001"), raw("RNCP26206"),
		encodeStatisticsKey(context.Background(), service.StatisticsKey{Year: 2019, CertificationCode: "RNCP26206", Route: "continuing_education"}),
		encodeStatisticsKey(context.Background(), service.StatisticsKey{Year: 2019, CertificationCode: "RNCP26206", Route: "vae", TrainingSiteID: "00000000-0000-7000-8000-00000000b001"}),
		raw("2019|RNCP26206|vae|"), raw("2019|RNCP26206|vae"), raw("2019|RNCP26206|vae||"), raw("1899|RNCP26206|vae|"), raw("2019|rncp|vae|"),
		raw("2019|RNCP26206|vae|00000000-0000-7000-8000-00000000B001"), raw("2019|RNCP26206|vae|\n"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		if n, err := sequenceCursor(context.Background(), &cursor); err == nil && cursor != "" {
			if n < 0 || encodeSequence(context.Background(), n) != cursor {
				t.Fatalf("feed cursor %q read as %d, which is written %q", cursor, n, encodeSequence(context.Background(), n))
			}
		}
		if k, err := statisticsCursor(context.Background(), &cursor); err == nil && cursor != "" {
			if k == nil || encodeStatisticsKey(context.Background(), *k) != cursor {
				t.Fatalf("statistics cursor %q read as %+v", cursor, k)
			}
		}
	})
}
