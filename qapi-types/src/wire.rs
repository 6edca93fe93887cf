//! Serialization logic that generated bindings share. Not meant to be
//! called by hand: the generated types' `Serialize` and `Deserialize`
//! implementations call it.

use std::borrow::Cow;

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// An enumeration of a schema: its values as wire strings.
pub trait Enum: Sized {
    /// The wire name of the value.
    fn as_str(&self) -> &str;
    /// The value with this wire name; values the bindings don't know are
    /// kept as `Unrecognized`.
    fn from_wire(name: &str) -> Self;
}

/// Serializes an enumeration value as its wire string.
pub fn serialize_enum<E: Enum, S: Serializer>(value: &E, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

/// Deserializes an enumeration value from its wire string.
pub fn deserialize_enum<'de, E: Enum, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<E, D::Error> {
    let name = Cow::<'de, str>::deserialize(deserializer)?;
    Ok(E::from_wire(&name))
}

/// Implements `Serialize`, `Deserialize` and `Display` for a type that
/// implements [`Enum`].
#[doc(hidden)]
#[macro_export]
macro_rules! impl_enum {
    ($ty:ty) => {
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $ty {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::wire::serialize_enum(self, serializer)
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::wire::deserialize_enum(deserializer)
            }
        }
        #[allow(deprecated)]
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::wire::Enum::as_str(self))
            }
        }
    };
}

/// Decodes an alternate's value as the branch its JSON type selects.
pub fn alternate_branch<T: DeserializeOwned, E: serde::de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}

/// The error for an alternate value of a JSON type no branch takes.
pub fn no_alternative<E: serde::de::Error>(alternate: &str, value: &Value) -> E {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    E::custom(format_args!("{alternate} cannot be {kind}"))
}

/// Decodes an event's data; events without data decode from `null` or
/// `{}` alike.
pub fn event_data<T: DeserializeOwned>(data: &Value) -> Result<T, serde_json::Error> {
    match data {
        Value::Null => T::deserialize(Value::Object(Map::new())),
        data => T::deserialize(data),
    }
}

/// A struct-like type of a schema: an object whose members can be written
/// into, and read out of, a larger object (a union writes its base's and
/// its branch's members into one).
pub trait Object: Sized {
    /// Writes the members into `map`.
    fn write_members<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// Takes the members out of `members`, leaving the others.
    fn read_members(members: &mut Members) -> Result<Self, serde_json::Error>;
}

/// The members of an object being decoded.
#[derive(Debug, Default)]
pub struct Members {
    map: Map<String, Value>,
}

impl Members {
    /// Takes a required member.
    pub fn required<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, serde_json::Error> {
        match self.map.remove(key) {
            Some(value) => T::deserialize(value).map_err(|e| member_error(key, e)),
            None => Err(<serde_json::Error as serde::de::Error>::custom(
                format_args!("missing member `{key}`"),
            )),
        }
    }

    /// Takes an optional member: `None` when absent; when present, even as
    /// `null`, its value.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<T>, serde_json::Error> {
        match self.map.remove(key) {
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| member_error(key, e)),
            None => Ok(None),
        }
    }

    /// The members not taken.
    pub fn into_rest(self) -> Map<String, Value> {
        self.map
    }
}

fn member_error(key: &str, error: serde_json::Error) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(format_args!("member `{key}`: {error}"))
}

/// Writes a member.
pub fn write<M: SerializeMap, T: Serialize + ?Sized>(
    map: &mut M,
    key: &str,
    value: &T,
) -> Result<(), M::Error> {
    map.serialize_entry(key, value)
}

/// Writes an optional member when it is present.
pub fn write_optional<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None => Ok(()),
    }
}

/// Writes members kept as they arrived.
pub fn write_rest<M: SerializeMap>(
    map: &mut M,
    members: &Map<String, Value>,
) -> Result<(), M::Error> {
    for (key, value) in members {
        map.serialize_entry(key, value)?;
    }
    Ok(())
}

/// Serializes an [`Object`] as a JSON object.
pub fn serialize_object<T: Object, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    value.write_members(&mut map)?;
    map.end()
}

/// Deserializes an [`Object`] from a JSON object; members it doesn't know
/// are ignored.
pub fn deserialize_object<'de, T: Object, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let map = Map::<String, Value>::deserialize(deserializer)?;
    T::read_members(&mut Members { map }).map_err(D::Error::custom)
}

/// Implements `Serialize` and `Deserialize` for a type that implements
/// [`Object`].
#[doc(hidden)]
#[macro_export]
macro_rules! impl_object {
    ($ty:ty) => {
        #[allow(deprecated)]
        impl $crate::serde::Serialize for $ty {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::wire::serialize_object(self, serializer)
            }
        }
        #[allow(deprecated)]
        impl<'de> $crate::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::wire::deserialize_object(deserializer)
            }
        }
    };
}

/// Implements [`Object`], `Serialize`, `Deserialize` and the setters of
/// the optional members for a generated struct.
///
/// Each section is optional: `required` and `optional` list each field
/// with its wire name (optional ones with their setter and the type it
/// takes; `strings` those whose setter takes `impl Into<String>`),
/// `flatten` fields whose own members are the struct's (a union's
/// branch), `rest` a map that keeps the members no field takes.
#[doc(hidden)]
#[macro_export]
macro_rules! object {
    (
        $ty:ident {
            $( required { $( $field:ident = $wire:literal ),* $(,)? } )?
            $( optional { $( $ofield:ident = $owire:literal => $setter:ident ( $oty:ty ) ),* $(,)? } )?
            $( strings { $( $sfield:ident = $swire:literal => $ssetter:ident ),* $(,)? } )?
            $( flatten { $( $ffield:ident ),* $(,)? } )?
            $( rest { $( $rfield:ident ),* $(,)? } )?
        }
    ) => {
        #[allow(deprecated)]
        impl $ty {
            $($(
                #[doc = concat!(" Sets the optional member `", $owire, "`.")]
                #[must_use]
                pub fn $setter(mut self, $ofield: $oty) -> Self {
                    self.$ofield = ::core::option::Option::Some($ofield.into());
                    self
                }
            )*)?
            $($(
                #[doc = concat!(" Sets the optional member `", $swire, "`.")]
                #[must_use]
                pub fn $ssetter(mut self, $sfield: impl ::core::convert::Into<::std::string::String>) -> Self {
                    self.$sfield = ::core::option::Option::Some($sfield.into());
                    self
                }
            )*)?
        }

        #[allow(deprecated)]
        impl $crate::wire::Object for $ty {
            #[allow(unused_variables)]
            fn write_members<M: $crate::serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> ::core::result::Result<(), M::Error> {
                $($( $crate::wire::write(map, $wire, &self.$field)?; )*)?
                $($( $crate::wire::write_optional(map, $owire, &self.$ofield)?; )*)?
                $($( $crate::wire::write_optional(map, $swire, &self.$sfield)?; )*)?
                $($( $crate::wire::Object::write_members(&self.$ffield, map)?; )*)?
                $($( $crate::wire::write_rest(map, &self.$rfield)?; )*)?
                ::core::result::Result::Ok(())
            }

            #[allow(unused_variables)]
            fn read_members(
                members: &mut $crate::wire::Members,
            ) -> ::core::result::Result<Self, $crate::serde_json::Error> {
                ::core::result::Result::Ok(Self {
                    $($( $field: members.required($wire)?, )*)?
                    $($( $ofield: members.optional($owire)?, )*)?
                    $($( $sfield: members.optional($swire)?, )*)?
                    $($( $ffield: $crate::wire::Object::read_members(members)?, )*)?
                    $($( $rfield: ::core::mem::take(members).into_rest(), )*)?
                })
            }
        }

        $crate::impl_object!($ty);
    };
}

/// Implements [`Enum`], `Serialize`, `Deserialize` and `Display` for a
/// generated enumeration: each variant with its wire name, and the
/// variant that keeps values the bindings don't know.
#[doc(hidden)]
#[macro_export]
macro_rules! enumeration {
    ($ty:ident { $( $variant:ident = $wire:literal ),* $(,)? } else $unknown:ident) => {
        #[allow(deprecated)]
        impl $crate::wire::Enum for $ty {
            fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::$unknown(name) => name,
                }
            }

            fn from_wire(name: &str) -> Self {
                match name {
                    $( $wire => Self::$variant, )*
                    other => Self::$unknown(other.into()),
                }
            }
        }

        $crate::impl_enum!($ty);
    };
}
