package store

import "time"

// Row structs mirror the tables of migrations/; TestSchemaMatchesModels proves they agree.

type certificationRow struct {
	Code                     string `gorm:"primaryKey"`
	Title                    string
	Certifier                string
	Signatory                string
	Level1969                string `gorm:"column:level_1969"`
	LevelEQF                 int    `gorm:"column:level_eqf"`
	Summary                  string
	JurySize                 int
	JuryPedagogicalDirectors int
	JuryProfessionals        int
	JuryDescriptionFR        string `gorm:"column:jury_description_fr"`
	JuryDescriptionEN        string `gorm:"column:jury_description_en"`
	ValidityYears            *int
	AwardGraceMonths         int
	Version                  int
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

func (certificationRow) TableName() string { return "certifications" }

type classificationRow struct {
	CertificationCode string `gorm:"primaryKey"`
	Kind              string `gorm:"primaryKey"`
	Code              string `gorm:"primaryKey"`
	Label             string
	Ordinal           int
}

func (classificationRow) TableName() string { return "certification_classifications" }

type functionRow struct {
	CertificationCode string `gorm:"primaryKey"`
	ID                string `gorm:"primaryKey"`
	TitleFR           string `gorm:"column:title_fr"`
	TitleEN           string `gorm:"column:title_en"`
	Ordinal           int
}

func (functionRow) TableName() string { return "certification_functions" }

type activityRow struct {
	CertificationCode string `gorm:"primaryKey"`
	FunctionID        string
	ID                string `gorm:"primaryKey"`
	TitleFR           string `gorm:"column:title_fr"`
	TitleEN           string `gorm:"column:title_en"`
	Ordinal           int
}

func (activityRow) TableName() string { return "certification_activities" }

type capacityRow struct {
	CertificationCode string `gorm:"primaryKey"`
	ID                string `gorm:"primaryKey"`
	StatementFR       string `gorm:"column:statement_fr"`
	StatementEN       string `gorm:"column:statement_en"`
	Ordinal           int
}

func (capacityRow) TableName() string { return "certification_capacities" }

type componentRow struct {
	CertificationCode string `gorm:"primaryKey"`
	ID                string `gorm:"primaryKey"`
	TitleFR           string `gorm:"column:title_fr"`
	TitleEN           string `gorm:"column:title_en"`
	Form              string
	ScaleMin          float64
	ScaleMax          float64
	PassMark          float64
	Combination       *string
	Ordinal           int
}

func (componentRow) TableName() string { return "certification_components" }

type componentPartRow struct {
	CertificationCode string `gorm:"primaryKey"`
	ComponentID       string `gorm:"primaryKey"`
	ID                string `gorm:"primaryKey"`
	TitleFR           string `gorm:"column:title_fr"`
	TitleEN           string `gorm:"column:title_en"`
	DurationMinutes   *int
	BeforeJury        bool
	Ordinal           int
}

func (componentPartRow) TableName() string { return "certification_component_parts" }

type routeRow struct {
	CertificationCode     string `gorm:"primaryKey"`
	ID                    string `gorm:"primaryKey"`
	LabelFR               string `gorm:"column:label_fr"`
	LabelEN               string `gorm:"column:label_en"`
	IsOpen                bool
	OpensOn               *time.Time
	PermanentAcquisitions bool
	Ordinal               int
}

func (routeRow) TableName() string { return "certification_routes" }

type territoryRow struct {
	CertificationCode string `gorm:"primaryKey"`
	Code              string `gorm:"primaryKey"`
	NameFR            string `gorm:"column:name_fr"`
	NameEN            string `gorm:"column:name_en"`
	PostalCodePrefix  string
	Ordinal           int
}

func (territoryRow) TableName() string { return "certification_excluded_territories" }

type registrationPeriodRow struct {
	ID                string `gorm:"primaryKey"`
	CertificationCode string
	LegalAct          string
	EffectiveFrom     time.Time
	EffectiveUntil    time.Time
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (registrationPeriodRow) TableName() string { return "registration_periods" }

type trainingSiteRow struct {
	ID              string `gorm:"primaryKey"`
	Name            string
	Line1           string
	Line2           *string
	PostalCode      string
	City            string
	CountryCode     string
	IsPreparation   bool
	IsCertification bool
	Active          bool
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (trainingSiteRow) TableName() string { return "training_sites" }

type trainingSiteCertificationRow struct {
	TrainingSiteID    string `gorm:"primaryKey"`
	CertificationCode string `gorm:"primaryKey"`
}

func (trainingSiteCertificationRow) TableName() string { return "training_site_certifications" }

type userRow struct {
	ID             string `gorm:"primaryKey"`
	Email          string
	PasswordHash   string
	Role           string
	TrainingSiteID *string
	JuryMemberID   *string
	CandidateID    *string
	Active         bool
	// SessionsValidAfter is read and written with the accounts (accounts.go).
	SessionsValidAfter *time.Time
	Version            int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (userRow) TableName() string { return "users" }

type idempotencyRow struct {
	PrincipalID  string `gorm:"primaryKey"`
	IdemKey      string `gorm:"primaryKey"`
	Method       string
	Path         string
	RequestHash  string
	StatusCode   int
	ContentType  string
	Location     string
	ETag         string `gorm:"column:etag"`
	ResponseBody string
	CreatedAt    time.Time
	LeaseUntil   *time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

type auditEventRow struct {
	ID           string `gorm:"primaryKey"`
	OccurredAt   time.Time
	ActorID      *string
	ActorRole    string
	Action       string
	ResourceType string
	ResourceID   string
	Changes      string
	RequestID    string
}

func (auditEventRow) TableName() string { return "audit_events" }

// models lists every row struct, for the schema test.
var models = []any{
	&certificationRow{}, &classificationRow{}, &functionRow{}, &activityRow{}, &capacityRow{},
	&componentRow{}, &componentPartRow{}, &routeRow{}, &territoryRow{}, &registrationPeriodRow{},
	&trainingSiteRow{}, &trainingSiteCertificationRow{}, &userRow{}, &idempotencyRow{}, &auditEventRow{},
	&candidateRow{}, &evaluationRow{}, &juryMemberRow{}, &juryMemberLinkRow{}, &jurySessionRow{}, &jurySessionMemberRow{},
	&decisionRow{}, &decisionComponentRow{}, &certificateRow{}, &rateLimitRow{},
}

// The row structs of the accounts, the results feed and webhooks, and the holders
// declaration, declared with their repositories.
func init() {
	models = append(models, accountModels...)
	models = append(models, resultModels...)
	models = append(models, declarationModels...)
}

type candidateRow struct {
	ID                  string `gorm:"primaryKey"`
	CertificationCode   string
	Route               string
	TrainingSiteID      *string
	EnrolledOn          time.Time
	FirstName           string
	BirthName           string
	UsageName           *string
	Sex                 string
	BirthDate           time.Time
	BirthINSEECode      *string `gorm:"column:birth_insee_code"`
	BirthPostalCode     *string
	BirthPlaceName      string
	BirthCountryCode    string
	Email               string
	Phone               *string
	Line1               string
	Line2               *string
	PostalCode          string
	City                string
	CountryCode         string
	Status              string
	VAEAdmissibility    *string    `gorm:"column:vae_admissibility"`
	VAEDecidedOn        *time.Time `gorm:"column:vae_decided_on"`
	VAEExperienceMonths *int       `gorm:"column:vae_experience_months"`
	VAERequiredMonths   *int       `gorm:"column:vae_required_months"`
	WithdrawnOn         *time.Time
	WithdrawalReason    *string
	SupersededBy        *string
	CertificateNumber   *string
	IdentityKey         *string
	PersonKey           string
	SearchName          string
	Version             int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (candidateRow) TableName() string { return "candidates" }

type evaluationRow struct {
	ID                     string `gorm:"primaryKey"`
	CandidateID            string
	CertificationCode      string
	Component              string
	TrainingSiteID         string
	JurySessionID          *string
	ScheduledAt            time.Time
	EndsAt                 *time.Time
	Status                 string
	GradeHundredths        *int64
	DossierGradeHundredths *int64
	DefenceGradeHundredths *int64
	ResultRecordedAt       *time.Time
	ResultCorrected        bool
	ValidatedOn            *time.Time
	ValidatedBy            *string
	CancelledAt            *time.Time
	CancellationReason     *string
	Version                int
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

func (evaluationRow) TableName() string { return "evaluations" }

type juryMemberRow struct {
	ID           string `gorm:"primaryKey"`
	FullName     string
	Role         string
	Organisation string
	Email        string
	Phone        *string
	Active       bool
	Version      int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (juryMemberRow) TableName() string { return "jury_members" }

type juryMemberLinkRow struct {
	JuryMemberID   string `gorm:"primaryKey"`
	Ordinal        int    `gorm:"primaryKey"`
	Kind           string
	CandidateID    *string
	TrainingSiteID *string
}

func (juryMemberLinkRow) TableName() string { return "jury_member_links" }

type jurySessionRow struct {
	ID                    string `gorm:"primaryKey"`
	CertificationCode     string
	TrainingSiteID        string
	HeldOn                time.Time
	Status                string
	DeliberationStartedAt *time.Time
	ClosedAt              *time.Time
	Version               int
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (jurySessionRow) TableName() string { return "jury_sessions" }

type jurySessionMemberRow struct {
	JurySessionID string `gorm:"primaryKey"`
	JuryMemberID  string `gorm:"primaryKey"`
	Ordinal       int
	SignedAt      *time.Time
}

func (jurySessionMemberRow) TableName() string { return "jury_session_members" }

type decisionRow struct {
	ID            string `gorm:"primaryKey"`
	JurySessionID string
	CandidateID   string
	Outcome       string
	Reason        string
	Revision      int
	CorrectsID    *string
	SupersededBy  *string
	DecidedAt     time.Time
	DecidedBy     string
	PublishedAt   *time.Time
}

func (decisionRow) TableName() string { return "decisions" }

type decisionComponentRow struct {
	DecisionID   string `gorm:"primaryKey"`
	Component    string `gorm:"primaryKey"`
	EvaluationID string
	AcquiredOn   time.Time
	ValidUntil   *time.Time
	ValidatedNow bool
	Ordinal      int
}

func (decisionComponentRow) TableName() string { return "decision_components" }

type certificateRow struct {
	Number            string `gorm:"primaryKey"`
	Kind              string
	DecisionID        string
	CandidateID       string
	CertificationCode string
	HolderName        string
	AwardedOn         time.Time
	IssuedAt          time.Time
	Status            string
	RevokedAt         *time.Time
	RevocationReason  *string
	Version           int
}

func (certificateRow) TableName() string { return "certificates" }

type rateLimitRow struct {
	LimitKey    string    `gorm:"primaryKey"`
	WindowStart time.Time `gorm:"primaryKey"`
	Hits        int
	ExpiresAt   time.Time
}

func (rateLimitRow) TableName() string { return "rate_limit_counts" }
