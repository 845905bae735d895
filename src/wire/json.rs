//! The JSON forms of enumeration and `float` fields, shared by the message families.

/// JSON form of an enumeration field: the value's name (`MATCH`, `Working`), or the number when
/// it has none; either form is read back.
pub(super) mod enum_json {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        number: i32,
        name: Option<&'static str>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match name {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(number),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NameOrNumber {
        Name(String),
        Number(i32),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        by_name: impl Fn(&str) -> Option<i32>,
        expected: &str,
    ) -> Result<i32, D::Error> {
        match NameOrNumber::deserialize(deserializer)? {
            NameOrNumber::Number(number) => Ok(number),
            NameOrNumber::Name(name) => by_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown value {name:?}: expected {expected}"))
            }),
        }
    }
}

pub(super) mod checksum_state_json {
    use crate::protocol::ChecksumState;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(state: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        let name = ChecksumState::try_from(*state)
            .ok()
            .map(ChecksumState::name);
        super::enum_json::serialize(*state, name, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        super::enum_json::deserialize(
            deserializer,
            |name| ChecksumState::from_name(name).map(ChecksumState::wire),
            "UNINITIALIZED, MISMATCH or MATCH",
        )
    }
}

pub(super) mod component_state_json {
    use crate::ComponentState;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(state: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        let name = ComponentState::try_from(*state)
            .ok()
            .map(ComponentState::name);
        super::enum_json::serialize(*state, name, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        super::enum_json::deserialize(
            deserializer,
            |name| {
                crate::ComponentState::ALL
                    .into_iter()
                    .find(|state| state.name() == name)
                    .map(|state| i32::from(state.number()))
            },
            "Working, Stopped, Removed, Initializing, Preparing, MergeReady or WaitingMerge",
        )
    }
}

/// JSON form of a `float` field: finite values as numbers, the others as protobuf's JSON mapping
/// names them (`"NaN"`, `"Infinity"`, `"-Infinity"`), so every value the wire can carry prints
/// and reads back.
pub(super) mod float_json {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            serializer.serialize_str("NaN")
        } else if value.is_infinite() {
            serializer.serialize_str(if *value > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            })
        } else {
            serializer.serialize_f32(*value)
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrName {
        Number(f32),
        Name(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        match NumberOrName::deserialize(deserializer)? {
            NumberOrName::Number(value) => Ok(value),
            NumberOrName::Name(name) => match name.as_str() {
                "NaN" => Ok(f32::NAN),
                "Infinity" => Ok(f32::INFINITY),
                "-Infinity" => Ok(f32::NEG_INFINITY),
                _ => Err(serde::de::Error::custom(format!(
                    "unknown value {name:?}: expected a number, NaN, Infinity or -Infinity"
                ))),
            },
        }
    }
}
