package api

// ResultFields is how the server reads a ResultInput: the contract has already
// checked that the body is exactly one of its three forms (a grade, the parts of
// E4, an absence), so the fields of all three are read into one struct.
type ResultFields struct {
	Absent       *bool       `json:"absent,omitempty"`
	DefenceGrade *GradeInput `json:"defence_grade,omitempty"`
	DossierGrade *GradeInput `json:"dossier_grade,omitempty"`
	Grade        *GradeInput `json:"grade,omitempty"`
}

// ResultCorrectionFields is how the server reads a ResultCorrection: one of the
// three forms of a result, with its reason.
type ResultCorrectionFields struct {
	Absent       *bool       `json:"absent,omitempty"`
	DefenceGrade *GradeInput `json:"defence_grade,omitempty"`
	DossierGrade *GradeInput `json:"dossier_grade,omitempty"`
	Grade        *GradeInput `json:"grade,omitempty"`
	Reason       string      `json:"reason"`
}
