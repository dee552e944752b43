//! Local echo as the engine serves it: the rows from the store, merged by
//! the rules in [`crate::rules::echo`] (which hold the types too).

use mostrador_core::chat::{Conversation, Message};
use uuid::Uuid;

use crate::engine::Engine;
use crate::rules::echo;
use crate::ClientError;

pub use crate::rules::echo::{ConversationLine, Delivery, ThreadLine};

impl Engine {
    /// The thread of a conversation: cached messages, then the unsent ones
    /// in the order they were written.
    pub async fn thread(&self, conversation_id: Uuid) -> Result<Vec<ThreadLine>, ClientError> {
        let cached: Vec<Message> = self.store().list(Some(conversation_id)).await?;
        Ok(echo::thread(conversation_id, cached, &self.outbox().await?))
    }

    /// One conversation as [`Engine::conversations`] lists it (cached, or
    /// opened offline and still in the outbox): none or one line.
    pub async fn conversation_line(&self, id: Uuid) -> Result<Vec<ConversationLine>, ClientError> {
        let cached: Vec<Conversation> = self.store().get(id).await?.into_iter().collect();
        let mut lines = echo::conversations(cached, &self.outbox().await?);
        lines.retain(|l| l.id == id);
        Ok(lines)
    }

    /// Conversations, most recently active last, with the ones opened
    /// offline that the server does not have yet.
    pub async fn conversations(&self) -> Result<Vec<ConversationLine>, ClientError> {
        let cached: Vec<Conversation> = self.store().list(None).await?;
        Ok(echo::conversations(cached, &self.outbox().await?))
    }
}
