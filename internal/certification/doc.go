// Package certification is the domain of the service: what a certification is, who
// takes it and how, and every rule of the RNCP sheet the API enforces. It imports the
// standard library only, so that rules can be read and tested without a database or
// an HTTP server.
//
// Glossary:
//
//   - certification: a professional title registered in the RNCP (Répertoire national
//     des certifications professionnelles), here RNCP26206 "Community manager",
//     delivered by a certifier (AP Formation).
//   - registration period: an interval during which the certification is registered in
//     the RNCP, by a legal act (arrêté); candidates enrol and juries award only inside one.
//   - training site: a place declared for the certification, as a preparation site
//     (where candidates are trained) and/or a certification site (where they are assessed).
//   - candidate: a person who registers for the certification through an access route.
//   - route (voie d'accès): initial training, apprenticeship, continuing education,
//     professionalisation contract, individual application or VAE; each is open or not.
//   - component (composante, évaluation): one of E1-E4; a candidate acquires the
//     certification by acquiring all of them; an acquired component stays valid for
//     the certification's validity (5 years).
//   - jury session: a meeting of the jury (the Directeur Pédagogique and four
//     professionals) at a certification site, where it deliberates.
//   - deliberation: the jury's decisions on candidates: award, partial validation or refusal.
//   - holder (titulaire): a person awarded the certification; declared to the Caisse des Dépôts.
package certification
