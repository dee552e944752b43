//! The rest of the user's actions, each one engine method so a shell only
//! translates: callbacks, rating, profile and addresses, account deletion
//! (queued through the outbox, validated here first), and the reads that
//! need the server there and then (slots, availability, the export, the
//! agent's saved replies, metrics and team; the last three keep a copy for
//! offline use). Also the callback reminders' schedule.

use std::collections::HashSet;
use std::time::Duration;

use mostrador_core::agent::{AgentInfo, Availability, CannedResponse, Metrics, PutCanned};
use mostrador_core::app::CallbackLine;
use mostrador_core::callbacks::{RequestCallback, RescheduleCallback, Slot, TimeWindow};
use mostrador_core::chat::Rating;
use mostrador_core::profile::{Address, ProfileUpdate};
use mostrador_core::sync::MutationOp;
use mostrador_core::ApiError;
use tokio::sync::watch;
use uuid::Uuid;

use crate::engine::{Engine, EngineEvent};
use crate::notices;
use crate::rules::kept::Kept;
use crate::ClientError;

/// How often the reminder schedule looks at the callbacks.
const REMINDER_TICK: Duration = Duration::from_secs(30);

fn invalid(field: &str, problem: &str) -> ClientError {
    ClientError::Api(ApiError::invalid_field(field, problem))
}

/// A phone number the user typed must be E.164 (blank means none).
fn check_phone(phone: Option<&str>) -> Result<(), ClientError> {
    match phone.filter(|p| !p.is_empty()) {
        Some(p) => mostrador_core::phone::E164::parse(p)
            .map(|_| ())
            .map_err(|_| invalid("phone", "not_e164")),
        None => Ok(()),
    }
}

/// The user's data export, ready to save: what the server keeps about
/// them, as pretty JSON, and the file name to offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Engine {
    /// Rates a conversation 1 to 5, with an optional comment (blank is none),
    /// checked as the server will ([`Rating::check`]) before it is queued.
    pub async fn rate(
        &self,
        conversation_id: Uuid,
        score: i64,
        comment: Option<String>,
    ) -> Result<(), ClientError> {
        let rating = Rating { score, comment }
            .check()
            .map_err(ClientError::Api)?;
        self.queue(MutationOp::RateConversation {
            conversation_id,
            rating,
        })
        .await
    }

    /// Books a callback in the request's slot; its id is chosen here (any
    /// id the caller set is replaced), so it shows at once as pending.
    pub async fn request_callback(&self, request: RequestCallback) -> Result<Uuid, ClientError> {
        check_phone(request.phone.as_deref())?;
        let id = Uuid::new_v4();
        self.queue(MutationOp::RequestCallback(RequestCallback {
            id,
            ..request
        }))
        .await?;
        Ok(id)
    }

    pub async fn cancel_callback(&self, callback_id: Uuid) -> Result<(), ClientError> {
        self.queue(MutationOp::CancelCallback { callback_id }).await
    }

    /// Moves a callback to another slot.
    pub async fn reschedule_callback(
        &self,
        callback_id: Uuid,
        window: TimeWindow,
    ) -> Result<(), ClientError> {
        self.queue(MutationOp::RescheduleCallback {
            callback_id,
            reschedule: RescheduleCallback {
                windows: vec![window],
            },
        })
        .await
    }

    pub async fn update_profile(&self, update: ProfileUpdate) -> Result<(), ClientError> {
        check_phone(update.phone.as_deref())?;
        self.queue(MutationOp::UpdateProfile(update)).await
    }

    /// Adds (nil id: one is chosen here) or replaces an address.
    pub async fn put_address(&self, mut address: Address) -> Result<Uuid, ClientError> {
        if address.id.is_nil() {
            address.id = Uuid::new_v4();
        }
        let id = address.id;
        self.queue(MutationOp::PutAddress(address)).await?;
        Ok(id)
    }

    pub async fn delete_address(&self, address_id: Uuid) -> Result<(), ClientError> {
        self.queue(MutationOp::DeleteAddress { address_id }).await
    }

    /// Queues the account's deletion; once the server confirms, the engine
    /// emits [`EngineEvent::AccountDeleted`] and the shell wipes the device.
    pub async fn delete_account(&self) -> Result<(), ClientError> {
        self.queue(MutationOp::DeleteAccount).await
    }

    /// Free callback slots in the next two weeks (needs the server).
    pub async fn callback_slots(&self) -> Result<Vec<Slot>, ClientError> {
        self.api().callback_slots().await
    }

    /// Whether an agent could take a new conversation now; `None` when the
    /// server cannot say (offline).
    pub async fn availability(&self) -> Option<Availability> {
        self.api().availability().await.ok()
    }

    /// Everything the server keeps about the user (needs the server), as
    /// a file to save: the shell picks where, and writes it.
    pub async fn export(&self) -> Result<Export, ClientError> {
        let data = self.api().export().await?;
        let bytes =
            serde_json::to_vec_pretty(&data).map_err(|e| ClientError::Decode(e.to_string()))?;
        let date = crate::platform::today();
        Ok(Export {
            file_name: format!("mostrador-export-{date}.json"),
            bytes,
        })
    }

    /// Saved replies (the last copy when offline).
    pub async fn canned(&self) -> Result<Vec<CannedResponse>, ClientError> {
        self.online_or_kept(self.api().canned()).await
    }

    /// Admins: creates (no id: one is chosen here) or replaces a saved reply.
    pub async fn put_canned(
        &self,
        id: Option<Uuid>,
        title: String,
        body: String,
    ) -> Result<CannedResponse, ClientError> {
        let id = id.unwrap_or_else(Uuid::new_v4);
        self.api().put_canned(id, &PutCanned { title, body }).await
    }

    /// Admins: removes a saved reply.
    pub async fn delete_canned(&self, id: Uuid) -> Result<(), ClientError> {
        self.api().delete_canned(id).await
    }

    /// Support metrics, computed by the server now (the last copy offline).
    pub async fn metrics(&self) -> Result<Metrics, ClientError> {
        self.online_or_kept(self.api().metrics()).await
    }

    /// The support team and who is available (the last copy offline).
    pub async fn agents(&self) -> Result<Vec<AgentInfo>, ClientError> {
        self.online_or_kept(self.api().agents()).await
    }

    /// The server's answer, of which a copy is kept; when the server
    /// cannot answer, the last copy (or the server's error if none).
    async fn online_or_kept<T: Kept>(
        &self,
        fetch: impl std::future::Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        match fetch.await {
            Ok(v) => {
                if let Err(err) = self.store().keep(&v).await {
                    tracing::warn!(error = %err, key = T::KEY, "could not keep an offline copy");
                }
                Ok(v)
            }
            Err(err) => match self.store().kept::<T>().await {
                Ok(Some(v)) => Ok(v),
                _ => Err(err),
            },
        }
    }

    /// Announces each upcoming callback once, shortly before its slot
    /// ([`notices::due_reminders`]), as [`EngineEvent::Notice`]s, until
    /// `stop` turns true. The shell runs it next to [`Engine::run`].
    pub async fn remind(&self, mut stop: watch::Receiver<bool>) {
        let mut reminded: HashSet<Uuid> = HashSet::new();
        let mut tick = crate::platform::interval(REMINDER_TICK);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let Ok(lines) = self.callbacks_to_remind().await else {
                continue;
            };
            for notice in notices::due_reminders(&lines, jiff::Timestamp::now(), &mut reminded) {
                self.emit(EngineEvent::Notice(notice));
            }
        }
    }

    /// The callbacks the user will be in: staff, the queue (with whom to
    /// call); a customer, their own.
    async fn callbacks_to_remind(&self) -> Result<Vec<(CallbackLine, String)>, ClientError> {
        let staff = self.me().await?.is_some_and(|m| m.role.is_staff());
        Ok(if staff {
            self.callback_queue()
                .await?
                .into_iter()
                .map(|r| (r.line, r.customer_name))
                .collect()
        } else {
            self.callback_lines()
                .await?
                .into_iter()
                .map(|l| (l, String::new()))
                .collect()
        })
    }
}
