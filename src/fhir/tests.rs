//! One test per mapping rule: a hand-written UK Core resource and the
//! contract row worked out by hand from docs/fhir.md.

use std::collections::{HashMap, HashSet};

use super::map::{self, Context, Issue, IssueKind, Kind, Lookups, Rows};
use crate::contract::epoch_days;

fn day(s: &str) -> i32 {
    epoch_days(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date"))
}

struct Fixture {
    lookups: Lookups,
    organizations: HashMap<String, String>,
    patients: HashSet<String>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            lookups: Lookups::default(),
            organizations: HashMap::from([("org-1".to_string(), "A81001".to_string())]),
            patients: HashSet::from(["p1".to_string()]),
        }
    }

    /// Maps one line; Patients are mapped before the patient set is known.
    fn map(&self, kind: Kind, line: &str) -> Result<Rows, Issue> {
        let ctx = Context {
            lookups: &self.lookups,
            organizations: &self.organizations,
            patients: (kind != Kind::Patient).then_some(&self.patients),
        };
        let mut rows = Rows::default();
        map::map_line(kind, line.as_bytes(), &ctx, &mut rows).map(|()| rows)
    }
}

fn reason(r: Result<Rows, Issue>) -> (IssueKind, &'static str) {
    match r {
        Ok(_) => panic!("expected the resource to give no row"),
        Err(i) => (i.kind, i.reason),
    }
}

const ETHNIC: &str = r#""extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland","code":"CODE"}]}}]"#;
const GP_LOGICAL: &str = r#""generalPractitioner":[{"type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82005"}}]"#;

fn patient(extra: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"p1","birthDate":"1950-03-15",{GP_LOGICAL}{extra}}}"#
    )
}

#[test]
fn patient_takes_nhs_number_birth_date_sex_ethnicity_and_literal_practice() {
    let f = Fixture::new();
    let line = format!(
        r#"{{"resourceType":"Patient","id":"p1","identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}},{{"system":"https://example.org/mrn","value":"X1"}}],{},"gender":"female","birthDate":"1950-03-15","generalPractitioner":[{{"reference":"Organization/org-1"}}]}}"#,
        ETHNIC.replace("CODE", "A")
    );
    let p = f.map(Kind::Patient, &line).expect("mapped").patients;
    assert_eq!(p.person_id, ["p1"]);
    assert_eq!(p.nhs_number, [Some("9434765919".to_string())]);
    assert_eq!(p.date_of_birth, [day("1950-03-15")]);
    assert_eq!(p.sex, ["F"]);
    assert_eq!(p.ethnicity, [Some("A")]);
    // Organization/org-1 carries ODS code A81001 in the export.
    assert_eq!(p.practice_code, ["A81001"]);
    assert_eq!(p.lsoa, [None]);
    assert_eq!(p.pcn_code, [None]);
    assert_eq!(p.date_of_death, [None]);
}

#[test]
fn logical_general_practitioner_reference_gives_its_ods_code() {
    let p = Fixture::new()
        .map(Kind::Patient, &patient(""))
        .expect("mapped")
        .patients;
    assert_eq!(p.practice_code, ["B82005"]);
}

#[test]
fn reference_to_an_organization_not_in_the_export_is_rejected_as_dangling() {
    let line = r#"{"resourceType":"Patient","id":"p1","birthDate":"1950-03-15","generalPractitioner":[{"reference":"Organization/missing"}]}"#;
    let (kind, why) = reason(Fixture::new().map(Kind::Patient, line));
    assert_eq!(kind, IssueKind::Rejected);
    assert!(why.contains("not in the export"), "{why}");
    let none = r#"{"resourceType":"Patient","id":"p1","birthDate":"1950-03-15"}"#;
    assert_eq!(
        reason(Fixture::new().map(Kind::Patient, none)).1,
        "no generalPractitioner with an ODS code"
    );
}

#[test]
fn gender_maps_male_female_other_unknown_to_m_f_i_u() {
    let f = Fixture::new();
    for (gender, sex) in [
        (r#","gender":"male""#, "M"),
        (r#","gender":"female""#, "F"),
        (r#","gender":"other""#, "I"),
        (r#","gender":"unknown""#, "U"),
        ("", "U"),
    ] {
        let p = f
            .map(Kind::Patient, &patient(gender))
            .expect("mapped")
            .patients;
        assert_eq!(p.sex, [sex], "{gender}");
    }
    let bad = reason(f.map(Kind::Patient, &patient(r#","gender":"F""#)));
    assert_eq!(bad.0, IssueKind::Rejected);
}

#[test]
fn ethnic_category_england_codes_pass_through_and_99_is_not_stated() {
    let f = Fixture::new();
    for (code, expected) in [
        ("A", Some("A")),
        ("S", Some("S")),
        ("Z", Some("Z")),
        ("99", Some("Z")),
        ("T", None),
    ] {
        let extra = format!(",{}", ETHNIC.replace("CODE", code));
        let p = f
            .map(Kind::Patient, &patient(&extra))
            .expect("mapped")
            .patients;
        assert_eq!(p.ethnicity, [expected], "{code}");
    }
    // The Wales code system is not the England one: no ethnicity.
    let wales = format!(
        ",{}",
        ETHNIC
            .replace("UKCore-EthnicCategoryEngland", "UKCore-EthnicCategoryWales")
            .replace("CODE", "A")
    );
    let p = f
        .map(Kind::Patient, &patient(&wales))
        .expect("mapped")
        .patients;
    assert_eq!(p.ethnicity, [None]);
}

#[test]
fn deceased_date_time_is_the_date_of_death_and_a_bare_true_is_rejected() {
    let f = Fixture::new();
    let p = f
        .map(
            Kind::Patient,
            &patient(r#","deceasedDateTime":"2025-12-01T23:30:00-05:00""#),
        )
        .expect("mapped")
        .patients;
    // The date as written, in its own time zone.
    assert_eq!(p.date_of_death, [Some(day("2025-12-01"))]);
    let alive = f
        .map(Kind::Patient, &patient(r#","deceasedBoolean":false"#))
        .expect("mapped")
        .patients;
    assert_eq!(alive.date_of_death, [None]);
    let (kind, why) = reason(f.map(Kind::Patient, &patient(r#","deceasedBoolean":true"#)));
    assert_eq!(kind, IssueKind::Rejected);
    assert_eq!(why, "deceasedBoolean true without a date of death");
}

#[test]
fn lsoa_comes_from_the_home_postcode_through_the_lookup_and_pcn_from_the_practice() {
    let mut f = Fixture::new();
    let line = patient(
        r#","address":[{"use":"work","postalCode":"LS1 4AP"},{"use":"home","postalCode":"ts1 3ba"}]"#,
    );
    // No lookup given: nothing is guessed.
    assert_eq!(
        f.map(Kind::Patient, &line).expect("mapped").patients.lsoa,
        [None]
    );
    f.lookups.postcode_lsoa = Some(HashMap::from([
        ("TS13BA".to_string(), "E01012070".to_string()),
        ("LS14AP".to_string(), "E01033010".to_string()),
    ]));
    f.lookups.practice_pcn = Some(HashMap::from([(
        "B82005".to_string(),
        "U12345".to_string(),
    )]));
    let p = f.map(Kind::Patient, &line).expect("mapped").patients;
    assert_eq!(p.lsoa, [Some("E01012070".to_string())]);
    assert_eq!(p.pcn_code, [Some("U12345".to_string())]);
}

fn encounter(class: &str, extra: &str) -> String {
    format!(
        r#"{{"resourceType":"Encounter","id":"e1","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"{class}"}},"subject":{{"reference":"Patient/p1"}},"period":{{"start":"2025-05-02T14:00:00+01:00","end":"2025-05-06"}}{extra}}}"#
    )
}

#[test]
fn encounter_class_gives_the_setting() {
    let f = Fixture::new();
    let gp_service =
        r#","serviceType":{"coding":[{"system":"http://snomed.info/sct","code":"394814009"}]}"#;
    let gp_type =
        r#","type":[{"coding":[{"system":"http://snomed.info/sct","code":"394814009"}]}]"#;
    let psychiatry =
        r#","serviceType":{"coding":[{"system":"http://snomed.info/sct","code":"394587001"}]}"#;
    for (class, extra, setting) in [
        ("IMP", "", "inpatient"),
        ("ACUTE", "", "inpatient"),
        ("NONAC", "", "inpatient"),
        ("SS", "", "inpatient"),
        ("EMER", "", "emergency_department"),
        ("AMB", "", "outpatient"),
        ("AMB", gp_service, "gp"),
        ("AMB", gp_type, "gp"),
        ("HH", "", "community"),
        ("FLD", "", "community"),
        ("VR", "", "gp"),
        ("AMB", psychiatry, "mental_health"),
        ("HH", psychiatry, "mental_health"),
        ("IMP", psychiatry, "inpatient"),
    ] {
        let e = f
            .map(Kind::Encounter, &encounter(class, extra))
            .expect("mapped")
            .encounters;
        assert_eq!(e.setting, [setting], "{class}{extra}");
        assert_eq!(e.encounter_id, ["e1"]);
        assert_eq!(e.person_id, ["p1"]);
        assert_eq!(e.start_date, [day("2025-05-02")]);
        assert_eq!(e.end_date, [Some(day("2025-05-06"))]);
    }
    assert_eq!(
        reason(f.map(Kind::Encounter, &encounter("PRENC", ""))),
        (IssueKind::Dropped, "class not mapped to a setting")
    );
}

fn admission_method(code: &str) -> String {
    format!(
        r#","hospitalization":{{"extension":[{{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod","valueCodeableConcept":{{"coding":[{{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland","code":"{code}"}}]}}}}]}}"#
    )
}

#[test]
fn admission_methods_21_to_28_are_emergencies_and_11_to_83_others_are_not() {
    let f = Fixture::new();
    for code in ["21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28"] {
        let e = f
            .map(Kind::Encounter, &encounter("IMP", &admission_method(code)))
            .expect("mapped")
            .encounters;
        assert_eq!(e.emergency, [true], "{code}");
    }
    for code in ["11", "12", "13", "31", "32", "81", "82", "83"] {
        // Even with an emergency priority: the admission method decides.
        let extra = admission_method(code)
            + r#","priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActPriority","code":"EM"}]}"#;
        let e = f
            .map(Kind::Encounter, &encounter("IMP", &extra))
            .expect("mapped")
            .encounters;
        assert_eq!(e.emergency, [false], "{code}");
    }
}

#[test]
fn without_an_admission_method_priority_em_admit_source_emd_or_class_emer_is_an_emergency() {
    let f = Fixture::new();
    let em = r#","priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActPriority","code":"EM"}]}"#;
    let routine = r#","priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActPriority","code":"R"}]}"#;
    let from_ed = r#","hospitalization":{"admitSource":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/admit-source","code":"emd"}]}}"#;
    let unknown_method = admission_method("99");
    for (class, extra, expected) in [
        ("IMP", em, true),
        ("IMP", routine, false),
        ("IMP", from_ed, true),
        ("IMP", "", false),
        ("IMP", unknown_method.as_str(), false),
        ("EMER", "", true),
        ("AMB", "", false),
    ] {
        let e = f
            .map(Kind::Encounter, &encounter(class, extra))
            .expect("mapped")
            .encounters;
        assert_eq!(e.emergency, [expected], "{class}{extra}");
    }
}

#[test]
fn encounters_entered_in_error_cancelled_or_planned_are_dropped() {
    let f = Fixture::new();
    for status in ["entered-in-error", "cancelled", "planned"] {
        let line = encounter("IMP", "").replace("finished", status);
        assert_eq!(
            reason(f.map(Kind::Encounter, &line)).0,
            IssueKind::Dropped,
            "{status}"
        );
    }
}

#[test]
fn condition_gives_one_row_per_snomed_or_icd10_coding_dated_by_onset() {
    let f = Fixture::new();
    let line = r#"{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"},{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"},{"system":"http://hl7.org/fhir/sid/icd-10-uk","code":"E119"},{"system":"http://read.info/ctv3","code":"C10F."}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"onsetDateTime":"2025-05-03","recordedDate":"2025-06-01"}"#;
    let d = f.map(Kind::Condition, line).expect("mapped").diagnoses;
    assert_eq!(d.code_system, ["snomed", "icd10", "icd10"]);
    assert_eq!(d.code, ["44054006", "E11.9", "E119"]);
    assert_eq!(d.date, [day("2025-05-03"); 3]);
    assert_eq!(
        d.encounter_id,
        [
            Some("e1".to_string()),
            Some("e1".to_string()),
            Some("e1".to_string())
        ]
    );
}

#[test]
fn condition_without_onset_is_dated_by_recorded_date_and_onset_period_start_comes_first() {
    let f = Fixture::new();
    let recorded = r#"{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"recordedDate":"2024-02-10T09:30:00Z"}"#;
    let d = f.map(Kind::Condition, recorded).expect("mapped").diagnoses;
    assert_eq!(d.date, [day("2024-02-10")]);
    assert_eq!(d.encounter_id, [None]);
    let period = r#"{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},"subject":{"reference":"Patient/p1"},"onsetPeriod":{"start":"2023-01-05"},"recordedDate":"2024-02-10"}"#;
    assert_eq!(
        f.map(Kind::Condition, period)
            .expect("mapped")
            .diagnoses
            .date,
        [day("2023-01-05")]
    );
}

#[test]
fn refuted_and_entered_in_error_conditions_are_dropped_and_other_systems_give_no_row() {
    let f = Fixture::new();
    for (status, why) in [
        ("refuted", "verificationStatus refuted"),
        ("entered-in-error", "verificationStatus entered-in-error"),
    ] {
        let line = format!(
            r#"{{"resourceType":"Condition","verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"{status}"}}]}},"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"38341003"}}]}},"subject":{{"reference":"Patient/p1"}},"onsetDateTime":"2024-01-01"}}"#
        );
        assert_eq!(
            reason(f.map(Kind::Condition, &line)),
            (IssueKind::Dropped, why)
        );
    }
    let ctv3 = r#"{"resourceType":"Condition","code":{"coding":[{"system":"http://read.info/ctv3","code":"G20.."}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2024-01-01"}"#;
    assert_eq!(
        reason(f.map(Kind::Condition, ctv3)),
        (IssueKind::Dropped, "no SNOMED CT or ICD-10 coding")
    );
}

#[test]
fn medications_are_dated_by_their_own_element_and_coded_through_the_dmd_to_bnf_map() {
    let mut f = Fixture::new();
    let request = r#"{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"322236009"}]},"subject":{"reference":"Patient/p1"},"authoredOn":"2025-06-01"}"#;
    // No map: the dm+d code is written as it is, without a BNF code.
    let m = f
        .map(Kind::MedicationRequest, request)
        .expect("mapped without a map")
        .medications;
    assert_eq!(
        (m.person_id, m.date, m.bnf_code, m.code_system, m.code),
        (
            vec!["p1".to_string()],
            vec![day("2025-06-01")],
            vec![None],
            vec!["dmd"],
            vec!["322236009".to_string()]
        )
    );
    f.lookups.dmd_bnf = Some(HashMap::from([
        ("322236009".to_string(), "0407010H0AAAMAM".to_string()),
        (
            "39720311000001101".to_string(),
            "0212000B0AAABAB".to_string(),
        ),
    ]));
    let m = f
        .map(Kind::MedicationRequest, request)
        .expect("mapped")
        .medications;
    assert_eq!(
        (m.person_id, m.date, m.bnf_code, m.code_system, m.code),
        (
            vec!["p1".to_string()],
            vec![day("2025-06-01")],
            vec![Some("0407010H0AAAMAM".to_string())],
            vec!["dmd"],
            vec!["322236009".to_string()]
        )
    );
    let statement = r#"{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{"coding":[{"system":"https://dmd.nhs.uk","code":"39720311000001101"}]},"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2025-02-01","end":"2025-03-01"},"dateAsserted":"2025-04-01"}"#;
    let m = f
        .map(Kind::MedicationStatement, statement)
        .expect("mapped")
        .medications;
    assert_eq!(
        (m.date, m.bnf_code, m.code),
        (
            vec![day("2025-02-01")],
            vec![Some("0212000B0AAABAB".to_string())],
            vec!["39720311000001101".to_string()]
        )
    );
    let dispense = r#"{"resourceType":"MedicationDispense","status":"completed","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"322236009"}]},"subject":{"reference":"Patient/p1"},"whenPrepared":"2025-07-01","whenHandedOver":"2025-07-02T16:00:00Z"}"#;
    assert_eq!(
        f.map(Kind::MedicationDispense, dispense)
            .expect("mapped")
            .medications
            .date,
        [day("2025-07-02")]
    );
    // A code the map lacks: kept as a dm+d row without a BNF code.
    let unmapped = request.replace("322236009", "42109611000001109");
    let m = f
        .map(Kind::MedicationRequest, &unmapped)
        .expect("mapped")
        .medications;
    assert_eq!(
        (m.bnf_code, m.code_system, m.code),
        (
            vec![None],
            vec!["dmd"],
            vec!["42109611000001109".to_string()]
        )
    );
    let no_date = request.replace(r#","authoredOn":"2025-06-01""#, "");
    assert_eq!(
        reason(f.map(Kind::MedicationRequest, &no_date)),
        (IssueKind::Rejected, "missing authoredOn")
    );
}

#[test]
fn observation_takes_snomed_code_quantity_value_and_unit() {
    let f = Fixture::new();
    let line = r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"},{"system":"http://snomed.info/sct","code":"27113001"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2025-09-10T10:15:00+01:00","valueQuantity":{"value":70.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}"#;
    let o = f.map(Kind::Observation, line).expect("mapped").observations;
    assert_eq!(o.code_system, ["snomed"]);
    assert_eq!(o.code, ["27113001"]);
    assert_eq!(o.value, [Some(70.5)]);
    assert_eq!(o.unit, [Some("kg".to_string())]);
    assert_eq!(o.date, [day("2025-09-10")]);
    // No unit text: the UCUM code stands in; a period is dated by its start.
    let code_only = r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://snomed.info/sct","code":"1000731000000107"}]},"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2025-01-02"},"valueQuantity":{"value":4.2,"code":"mmol/L"}}"#;
    let o = f
        .map(Kind::Observation, code_only)
        .expect("mapped")
        .observations;
    assert_eq!(
        (o.unit, o.date),
        (vec![Some("mmol/L".to_string())], vec![day("2025-01-02")])
    );
    let loinc = r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2025-09-10"}"#;
    assert_eq!(
        reason(f.map(Kind::Observation, loinc)).0,
        IssueKind::Dropped
    );
}

#[test]
fn bad_lines_are_rejected_with_a_reason_never_a_panic() {
    let f = Fixture::new();
    let cases: &[(Kind, &str, &str)] = &[
        (
            Kind::Patient,
            r#"{"resourceType":"Patient","id":"p1","birthDate":"#,
            "malformed JSON line",
        ),
        (Kind::Patient, "not json at all", "malformed JSON line"),
        (
            Kind::Patient,
            r#"{"resourceType":"Patient","birthDate":"1950-03-15"}"#,
            "missing id",
        ),
        (
            Kind::Patient,
            r#"{"resourceType":"Patient","id":"p1"}"#,
            "missing birthDate",
        ),
        (
            Kind::Patient,
            &patient("").replace("1950-03-15", "1950-03"),
            "birthDate is not a full date",
        ),
        (
            Kind::Patient,
            &patient("").replace("1950-03-15", "1950-13-01"),
            "birthDate is not a full date",
        ),
        (
            Kind::Patient,
            r#"{"resourceType":"Encounter","id":"e1"}"#,
            "resourceType differs from the file's type",
        ),
        (
            Kind::Patient,
            r#"{"resourceType":"Patient","id":"p1","birthDate":19500315}"#,
            "an element has the wrong JSON type",
        ),
        (
            Kind::Encounter,
            &encounter("IMP", "").replace("Patient/p1", "Patient/p9"),
            "subject references a Patient not in the export",
        ),
        (
            Kind::Encounter,
            &encounter("IMP", "").replace("Patient/p1", "Group/g1"),
            "subject is not a Patient reference",
        ),
        (
            Kind::Encounter,
            &encounter("IMP", "").replace("2025-05-06", "06/05/2025"),
            "period.end is not a date",
        ),
        (
            Kind::Observation,
            r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://snomed.info/sct","code":"27113001"}]},"subject":{"reference":"Patient/p1"}}"#,
            "no effective[x] date",
        ),
    ];
    for (kind, line, why) in cases {
        assert_eq!(
            reason(f.map(*kind, line)),
            (IssueKind::Rejected, *why),
            "{line}"
        );
    }
}

#[test]
fn fhir_dates_are_read_as_written_and_partial_dates_are_not_dates() {
    assert_eq!(map::fhir_date("1970-01-02"), Some(1));
    assert_eq!(
        map::fhir_date("2024-02-29T23:59:59+14:00"),
        Some(day("2024-02-29"))
    );
    assert_eq!(map::fhir_date("2023-02-29"), None);
    assert_eq!(map::fhir_date("2024"), None);
    assert_eq!(map::fhir_date("2024-02"), None);
    assert_eq!(map::fhir_date("2024-02-01 10:00"), None);
}

#[test]
fn references_name_the_resource_type_and_drop_a_version() {
    let r = |s: &str| super::resource::Reference {
        reference: Some(super::resource::Str(s.to_string().into())),
        ..Default::default()
    };
    assert_eq!(r("Patient/123").id_of("Patient"), Some("123"));
    assert_eq!(
        r("https://fhir.example.nhs.uk/R4/Patient/123/_history/2").id_of("Patient"),
        Some("123")
    );
    assert_eq!(r("Group/123").id_of("Patient"), None);
    assert_eq!(r("Patient/").id_of("Patient"), None);
}

#[test]
fn opt_outs_come_only_from_the_users_list_by_person_id_or_nhs_number() {
    let mut f = Fixture::new();
    let line = patient(
        r#","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]"#,
    );
    let p = f.map(Kind::Patient, &line).expect("mapped").patients;
    assert_eq!(
        (p.opt_out_national, p.opt_out_type1),
        (vec![false], vec![false])
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let by_id = dir.path().join("by_id.csv");
    std::fs::write(
        &by_id,
        "person_id,opt_out_national,opt_out_type1\np1,yes,0\np2,false,true\n",
    )
    .expect("write");
    f.lookups.opt_outs = Some(super::lookup::opt_outs(&by_id).expect("read"));
    let p = f.map(Kind::Patient, &line).expect("mapped").patients;
    assert_eq!(
        (p.opt_out_national, p.opt_out_type1),
        (vec![true], vec![false])
    );

    let by_nhs = dir.path().join("by_nhs.csv");
    std::fs::write(
        &by_nhs,
        "nhs_number,opt_out_national,opt_out_type1\n9434765919,,1\n",
    )
    .expect("write");
    f.lookups.opt_outs = Some(super::lookup::opt_outs(&by_nhs).expect("read"));
    let p = f.map(Kind::Patient, &line).expect("mapped").patients;
    assert_eq!(
        (p.opt_out_national, p.opt_out_type1),
        (vec![false], vec![true])
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "person_id,opt_out_national,opt_out_type1\np1,maybe,0\n",
    )
    .expect("write");
    let err = super::lookup::opt_outs(&bad)
        .expect_err("not a bool")
        .to_string();
    assert!(err.contains("row 1, column `opt_out_national`"), "{err}");
    assert!(!err.contains("p1"), "never quotes an identifier: {err}");
}
