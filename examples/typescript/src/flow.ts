// The whole path of a candidate, as the SPA drives it: sign in, declare a training
// site, register a candidate, correct their phone (JSON merge patch), grade E1-E3,
// seat a jury of five, book and grade the E4 defence, deliberate, close, and verify
// the certificate the award issued, as anyone can, without credentials.
//
//   CERTAPI_URL=http://localhost:8080 CERTAPI_EMAIL=admin@example.org CERTAPI_PASSWORD=... npm run flow
import { apiClient, must, signIn } from "./client.js";

const baseUrl = process.env.CERTAPI_URL ?? "http://localhost:8080";
const email = process.env.CERTAPI_EMAIL ?? "admin@example.org";
const password = process.env.CERTAPI_PASSWORD ?? "local-development-only";
const run = Date.now().toString(36);

const token = await signIn(baseUrl, email, password);
const api = apiClient(baseUrl, token.access_token);
console.log(`signed in as ${email} (${token.scope}), token valid ${token.expires_in}s`);

// A preparation and certification site.
const site = must("create a site", await api.POST("/v1/training-sites", {
  body: {
    name: `Centre d'examen ${run}`,
    address: { line1: "2 place du Capitole", postal_code: "31000", city: "Toulouse", country_code: "FR" },
    roles: ["preparation", "certification"],
    certification_codes: ["RNCP26206"],
  },
}));

// A candidate, enrolled while the certification was registered in the RNCP.
const created = await api.POST("/v1/candidates", {
  body: {
    certification_code: "RNCP26206",
    route: "continuing_education",
    training_site_id: site.id,
    enrolled_on: "2019-06-03",
    first_name: "Léa",
    birth_name: `Moreau-${run}`,
    sex: "F",
    birth_date: "1996-02-29",
    birth_place: { insee_code: "31555", name: "Toulouse", country_code: "FR" },
    email: `lea.${run}@example.org`,
    address: { line1: "5 rue des Lois", postal_code: "31000", city: "Toulouse", country_code: "FR" },
  },
});
const candidate = must("register the candidate", created);

// A partial change is a JSON merge patch, conditional on the version read (ETag).
const etag = created.response.headers.get("ETag") ?? "*";
const patched = must("correct the phone", await api.PATCH("/v1/candidates/{id}", {
  params: { path: { id: candidate.id }, header: { "If-Match": etag } },
  body: { phone: "+33 5 61 00 00 00" },
  bodySerializer: (body) => JSON.stringify(body),
  headers: { "Content-Type": "application/merge-patch+json" },
}));
console.log(`registered ${patched.first_name} ${patched.birth_name}, ${patched.status}, phone ${patched.phone}`);

// E1-E3 at the site, each graded.
for (const [i, component] of (["E1", "E2", "E3"] as const).entries()) {
  const sitting = must(`schedule ${component}`, await api.POST("/v1/evaluations", {
    body: { candidate_id: candidate.id, component, training_site_id: site.id, scheduled_at: `2019-09-0${i + 2}T09:00:00Z` },
  }));
  must(`grade ${component}`, await api.POST("/v1/evaluations/{id}/result", {
    params: { path: { id: sitting.id }, header: { "If-Match": "*" } },
    body: { grade: 12 + i },
  }));
}

// A jury of five: the pedagogical director and four professionals.
const members: string[] = [];
for (const [i, full_name] of ["Hélène Garnier", "Paul Nguyen", "Inès Lefèvre", "Marc Dubois", "Zoé Perrin"].entries()) {
  const member = must("record a jury member", await api.POST("/v1/jury-members", {
    body: { full_name, role: i === 0 ? "pedagogical_director" : "professional", organisation: `Agence ${i}`, email: `jury${i}.${run}@example.org` },
  }));
  members.push(member.id);
}
const session = must("plan the session", await api.POST("/v1/jury-sessions", {
  body: { certification_code: "RNCP26206", training_site_id: site.id, held_on: "2019-10-01", member_ids: members },
}));

// The E4 defence: a 45-minute slot in the session, graded in two parts.
const defence = must("book the defence", await api.POST("/v1/evaluations", {
  body: { candidate_id: candidate.id, component: "E4", jury_session_id: session.id, scheduled_at: "2019-10-01T09:00:00Z" },
}));
must("grade the defence", await api.POST("/v1/evaluations/{id}/result", {
  params: { path: { id: defence.id }, header: { "If-Match": "*" } },
  body: { dossier_grade: 12, defence_grade: 15 },
}));

// The jury decides what the facts support, then closes and signs.
const decision = must("decide", await api.POST("/v1/jury-sessions/{id}/decisions", {
  params: { path: { id: session.id } },
  body: { candidate_id: candidate.id, outcome: "award", reason: "Les quatre composantes sont acquises." },
}));
const closed = must("close the session", await api.POST("/v1/jury-sessions/{id}/close", {
  params: { path: { id: session.id } },
  body: { signatures: members.map((member_id) => ({ member_id, signed_at: "2019-10-01T17:00:00Z" })) },
}));
console.log(`session ${closed.status}; decision ${decision.outcome}`);

const published = must("read the decision", await api.GET("/v1/jury-sessions/{id}/decisions/{decision_id}", {
  params: { path: { id: session.id, decision_id: decision.id } },
}));
if (!published.certificate_number) throw new Error("the award issued no certificate");

// Anyone verifies a certificate by its number, without credentials.
// The same address serves the printable PDF to Accept: application/pdf; ask for JSON.
const verified = must("verify the certificate", await apiClient(baseUrl).GET("/v1/certificates/{number}", {
  params: { path: { number: published.certificate_number } },
  headers: { Accept: "application/json" },
}));
if (typeof verified === "string") throw new Error("expected the JSON verification, not the PDF");
if (verified.status !== "valid") throw new Error(`certificate ${verified.status}`);
console.log(`certificate ${verified.number}: ${verified.holder_name}, ${verified.certification_title}, ${verified.status}`);
