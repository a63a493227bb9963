//! The few elements of each FHIR R4 resource that the mapping reads, as small
//! borrowed serde structs: a line is deserialised straight into one of these,
//! unknown elements are skipped without building a JSON tree, and strings
//! borrow from the line unless they carry escapes.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, Visitor};

/// A JSON string borrowed from the line when it has no escapes, owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(StrVisitor).map(Str)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Coding<'a> {
    #[serde(borrow, default)]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub code: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeableConcept<'a> {
    #[serde(borrow, default)]
    pub coding: Vec<Coding<'a>>,
}

impl CodeableConcept<'_> {
    /// The code of the first coding in `system`.
    pub fn code_in(&self, system: &str) -> Option<&str> {
        self.coding
            .iter()
            .find(|c| c.system.as_deref() == Some(system))
            .and_then(|c| c.code.as_deref())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Identifier<'a> {
    #[serde(borrow, default)]
    pub system: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub value: Option<Str<'a>>,
}

/// The value of an identifier with `system`, if any.
pub fn identifier_in<'s>(ids: &'s [Identifier<'_>], system: &str) -> Option<&'s str> {
    ids.iter()
        .find(|i| i.system.as_deref() == Some(system))
        .and_then(|i| i.value.as_deref())
}

#[derive(Debug, Default, Deserialize)]
pub struct Reference<'a> {
    #[serde(borrow, default)]
    pub reference: Option<Str<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub type_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Option<Identifier<'a>>,
}

impl Reference<'_> {
    /// The id of a literal reference to `resource_type`: `Patient/123`, or an
    /// absolute URL ending in `/Patient/123` (a version suffix `/_history/n`
    /// is dropped).
    pub fn id_of(&self, resource_type: &str) -> Option<&str> {
        let r = self.reference.as_deref()?;
        let r = match r.find("/_history/") {
            Some(i) => &r[..i],
            None => r,
        };
        let (head, id) = r.rsplit_once('/')?;
        let ty = head.rsplit('/').next()?;
        (ty == resource_type && !id.is_empty()).then_some(id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Period<'a> {
    #[serde(borrow, default)]
    pub start: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub end: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension<'a> {
    #[serde(borrow, default)]
    pub url: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub value_coding: Option<Coding<'a>>,
    #[serde(borrow, default)]
    pub value_string: Option<Str<'a>>,
}

/// The extension with `url`, if any.
pub fn extension<'s, 'a>(exts: &'s [Extension<'a>], url: &str) -> Option<&'s Extension<'a>> {
    exts.iter().find(|e| e.url.as_deref() == Some(url))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address<'a> {
    #[serde(borrow, default)]
    pub postal_code: Option<Str<'a>>,
    #[serde(borrow, default, rename = "use")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub period: Option<Period<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, default)]
    pub birth_date: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub gender: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(default)]
    pub deceased_boolean: Option<bool>,
    #[serde(borrow, default)]
    pub deceased_date_time: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub general_practitioner: Vec<Reference<'a>>,
    #[serde(borrow, default)]
    pub address: Vec<Address<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub identifier: Vec<Identifier<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hospitalization<'a> {
    #[serde(borrow, default)]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default)]
    pub admit_source: Option<CodeableConcept<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encounter<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub status: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub class: Option<Coding<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub type_: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub service_type: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub priority: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub period: Option<Period<'a>>,
    #[serde(borrow, default)]
    pub hospitalization: Option<Hospitalization<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub verification_status: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub code: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub encounter: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub onset_date_time: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub onset_period: Option<Period<'a>>,
    #[serde(borrow, default)]
    pub recorded_date: Option<Str<'a>>,
}

/// MedicationRequest, MedicationStatement and MedicationDispense: the
/// elements of all three (each resource fills its own).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub status: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub authored_on: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub effective_date_time: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub effective_period: Option<Period<'a>>,
    #[serde(borrow, default)]
    pub date_asserted: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub when_handed_over: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Quantity<'a> {
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(borrow, default)]
    pub unit: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub code: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation<'a> {
    #[serde(borrow, default)]
    pub resource_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub status: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub code: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    pub effective_date_time: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub effective_period: Option<Period<'a>>,
    #[serde(borrow, default)]
    pub effective_instant: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub value_quantity: Option<Quantity<'a>>,
}
