//! A value as the stores hold it: `{ key, data }`, the key the host indexes
//! and the core's bytes (pkg-template/io/host.js writes the same).

use durafetch::core::engine::Stored;

#[derive(Clone, Debug, PartialEq)]
pub struct StoredValue {
    /// `value.key`, when it is a string.
    pub key: Option<String>,
    /// `value.data`, when it is bytes.
    pub data: Option<Vec<u8>>,
}

impl StoredValue {
    pub fn new(key: &str, data: Vec<u8>) -> StoredValue {
        StoredValue { key: Some(key.to_string()), data: Some(data) }
    }

    /// What the engine reads of it (io/host.js `#stored`).
    pub fn read(&self) -> Stored {
        Stored::decode(self.data.as_deref(), self.key.clone())
    }
}
