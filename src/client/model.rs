//! [`Model`]: the per-model accessor with the README's read and write methods.

use std::sync::Arc;

use super::Client;

/// Accessor for one model: `client.model("users")`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) client: Client,
    pub(crate) name: Arc<str>,
}

impl Model {
    pub(crate) fn new(client: Client, name: &str) -> Model {
        Model {
            client,
            name: Arc::from(name),
        }
    }

    /// The model name this accessor was created with.
    pub fn name(&self) -> &str {
        &self.name
    }
}
