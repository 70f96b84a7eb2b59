package httpapi

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/idempotency"
)

// Every operation that records its answer with its write can send it as recorded.
var (
	_ api.CreateApiClientResponseObject           = recorded{}
	_ api.CreateDeclarationFileResponseObject     = recorded{}
	_ api.ScheduleEvaluationResponseObject        = recorded{}
	_ api.RecordRegistrationPeriodResponseObject  = recorded{}
	_ api.CreateTrainingSiteResponseObject        = recorded{}
	_ api.CreateUserResponseObject                = recorded{}
	_ api.CreateJuryMemberResponseObject          = recorded{}
	_ api.PlanJurySessionResponseObject           = recorded{}
	_ api.RecordDecisionResponseObject            = recorded{}
	_ api.CreateWebhookSubscriptionResponseObject = recorded{}
	_ api.RegisterCandidateResponseObject         = recorded{}
)

// A request whose write recorded its answer is sent that answer, byte for byte,
// status and headers included; one whose write recorded none has none to send.
func TestRecordedAnswerIsSentAsRecorded(t *testing.T) {
	answer := idempotency.Answer{StatusCode: 201, ContentType: "application/json", Location: "/v1/candidates/c1", ETag: `"1"`,
		Body: []byte("{\"id\":\"c1\"}\n")}
	claim := &idempotency.Claim{}
	ctx := idempotency.WithClaim(context.Background(), claim)
	if _, ok := recordedAnswer(ctx); ok {
		t.Fatal("an answer before the write recorded one")
	}
	claim.Render(func(any) (idempotency.Answer, error) { return answer, nil })
	idempotency.Result(ctx, "c1")
	if _, _, err := claim.Answer(); err != nil {
		t.Fatal(err)
	}
	claim.Committed()
	a, ok := recordedAnswer(ctx)
	if !ok {
		t.Fatal("no answer once the write recorded it")
	}
	w := httptest.NewRecorder()
	if err := a.VisitRegisterCandidateResponse(w); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Header().Get("Content-Type") != answer.ContentType || w.Header().Get("Location") != answer.Location ||
		w.Header().Get("ETag") != answer.ETag || w.Body.String() != string(answer.Body) {
		t.Fatalf("sent %d %v %q, want %+v", w.Code, w.Header(), w.Body.String(), answer)
	}
}
