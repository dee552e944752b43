//! The hub: who is connected, and which connections each event reaches.
//!
//! Pure state and routing: no sockets, no database, no runtime. A
//! connection is a bounded in-memory queue ([`QUEUE`]) plus a close signal;
//! the WebSocket handler (`live::socket`) drains one per socket, and the
//! dispatcher (`live::dispatch`) publishes committed changes here. Which
//! connection may receive which change is [`crate::authz::may_receive`],
//! the same rule the REST routes apply, so the hub only keeps the indexes
//! that make it cheap (a change wakes a customer's devices and staff, not
//! every connection).
//!
//! Publishing never waits: a connection whose queue is full loses the event
//! and is marked lagged, and its socket tells the app `resync_required`
//! once it drains.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mostrador_core::auth::Role;
use mostrador_core::live::{LiveServerMessage, Presence, MAX_SOCKETS_PER_SESSION};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::authz::routing as authz;

/// Events a connection may have queued before it must resync.
pub const QUEUE: usize = 256;

/// Who holds a connection: what the hub needs of a signed-in actor.
#[derive(Debug, Clone)]
pub struct Peer {
    pub user: Uuid,
    pub session: Uuid,
    pub role: Role,
    /// Shown to staff in presence and typing indicators.
    pub name: String,
}

impl Peer {
    fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

struct Conn {
    user: Uuid,
    session: Uuid,
    staff: bool,
    /// Set to a close code to end the connection.
    close: watch::Sender<Option<u16>>,
    tx: mpsc::Sender<LiveServerMessage>,
    lagged: Arc<AtomicBool>,
}

impl Conn {
    /// Queues `msg` without waiting; a full queue marks the connection lagged.
    fn offer(&self, msg: &LiveServerMessage) {
        if self.tx.try_send(msg.clone()).is_err() {
            self.lagged.store(true, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Routes {
    next: u64,
    conns: HashMap<u64, Conn>,
    by_user: HashMap<Uuid, HashSet<u64>>,
    staff: HashSet<u64>,
    /// Connected staff: name and chosen availability.
    presence: HashMap<Uuid, (String, Presence)>,
}

impl Routes {
    fn to_staff(&self, msg: &LiveServerMessage) {
        for c in self.staff.iter().filter_map(|id| self.conns.get(id)) {
            c.offer(msg);
        }
    }

    fn announce(&self, user_id: Uuid, name: String, status: Presence) {
        self.to_staff(&LiveServerMessage::Presence {
            user_id,
            name,
            status,
        });
    }

    /// The connections that may see a change of `customer`
    /// ([`authz::may_receive`]). Candidates: staff and the customer's own
    /// connections (a customer's connections are never staff, so none
    /// comes twice).
    fn receivers(
        &self,
        customer: Option<Uuid>,
        staff_only: bool,
    ) -> impl Iterator<Item = (u64, &Conn)> {
        let customer_conns = customer.and_then(|c| self.by_user.get(&c));
        self.staff
            .iter()
            .chain(customer_conns.into_iter().flatten())
            .filter_map(|id| self.conns.get(id).map(|c| (*id, c)))
            .filter(move |(_, c)| authz::may_receive(c.staff, c.user, customer, staff_only))
    }

    /// `user` leaves presence (told to staff), if they were in it.
    fn go_offline(&mut self, user: Uuid) {
        if let Some((name, _)) = self.presence.remove(&user) {
            self.announce(user, name, Presence::Offline);
        }
    }
}

/// Who is connected, and where each event goes.
#[derive(Default)]
pub struct Hub {
    routes: Mutex<Routes>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hub({} connections)", self.connections())
    }
}

/// A registered connection: its queue, lag flag and close signal.
/// Unregisters itself when dropped (the last connection of a staff member
/// takes them offline).
#[derive(Debug)]
pub struct Registration {
    hub: Arc<Hub>,
    id: u64,
    /// Events routed to this connection.
    pub rx: mpsc::Receiver<LiveServerMessage>,
    /// Set when an event was dropped because the queue was full.
    pub lagged: Arc<AtomicBool>,
    /// Becomes `Some(code)` when the connection must close.
    pub close: watch::Receiver<Option<u16>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut r = self.hub.lock();
        if let Some(c) = r.conns.remove(&self.id) {
            if let Some(set) = r.by_user.get_mut(&c.user) {
                set.remove(&self.id);
                if set.is_empty() {
                    r.by_user.remove(&c.user);
                }
            }
            r.staff.remove(&self.id);
            // The last connection of a staff member closed: offline.
            if !r.by_user.contains_key(&c.user) {
                r.go_offline(c.user);
            }
        }
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connection for `peer`. Staff learn who is around and join
    /// presence as available (told to every staff connection).
    pub fn register(self: &Arc<Self>, peer: &Peer) -> Registration {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (close_tx, close) = watch::channel(None);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut r = self.lock();
        r.next += 1;
        let id = r.next;
        let conn = Conn {
            user: peer.user,
            session: peer.session,
            staff: peer.is_staff(),
            close: close_tx,
            tx,
            lagged: lagged.clone(),
        };
        if peer.is_staff() {
            // Tell the newcomer who is around, then every staff member
            // (the newcomer too) about the newcomer.
            for (user_id, (name, status)) in &r.presence {
                let _ = conn.tx.try_send(LiveServerMessage::Presence {
                    user_id: *user_id,
                    name: name.clone(),
                    status: *status,
                });
            }
            r.staff.insert(id);
        }
        r.conns.insert(id, conn);
        r.by_user.entry(peer.user).or_default().insert(id);
        if peer.is_staff() && !r.presence.contains_key(&peer.user) {
            r.presence
                .insert(peer.user, (peer.name.clone(), Presence::Available));
            r.announce(peer.user, peer.name.clone(), Presence::Available);
        }
        Registration {
            hub: self.clone(),
            id,
            rx,
            lagged,
            close,
        }
    }

    /// Sockets open for this session.
    pub fn session_sockets(&self, session: Uuid) -> usize {
        let r = self.lock();
        r.conns.values().filter(|c| c.session == session).count()
    }

    /// Whether this session already holds `MAX_SOCKETS_PER_SESSION`
    /// sockets (one more is refused).
    pub fn session_full(&self, session: Uuid) -> bool {
        self.session_sockets(session) >= MAX_SOCKETS_PER_SESSION
    }

    /// Closes every socket of one session with `code`.
    pub fn close_session(&self, session: Uuid, code: u16) {
        let r = self.lock();
        for c in r.conns.values().filter(|c| c.session == session) {
            c.close.send_replace(Some(code));
        }
    }

    /// Closes every socket of one user with `code`, all but those of
    /// `keep` (the session that changed the password). When none is kept
    /// the user leaves presence at once (no more auto-assignment).
    pub fn close_user(&self, user: Uuid, code: u16, keep: Option<Uuid>) {
        let mut r = self.lock();
        for c in r.conns.values().filter(|c| c.user == user) {
            if Some(c.session) != keep {
                c.close.send_replace(Some(code));
            }
        }
        if keep.is_none() {
            r.go_offline(user);
        }
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }

    /// Sends `msg` to every connection that may see a change of
    /// `customer` (see [`authz::may_receive`]), except those of
    /// `skip_user`. Never waits.
    fn route(
        &self,
        customer: Option<Uuid>,
        staff_only: bool,
        skip_user: Option<Uuid>,
        msg: &LiveServerMessage,
    ) {
        let r = self.lock();
        for (_, c) in r.receivers(customer, staff_only) {
            if Some(c.user) != skip_user {
                c.offer(msg);
            }
        }
    }

    /// Pokes who may see a committed change (feed sequence `seq`).
    pub fn publish_change(&self, seq: i64, customer: Option<Uuid>, staff_only: bool) {
        self.publish_changes(&[(seq, customer, staff_only)]);
    }

    /// Pokes who may see any of `changes` (`(seq, customer, staff_only)`,
    /// committed together): each connection once, with the highest
    /// sequence it may see, however many rows the commit wrote.
    pub fn publish_changes(&self, changes: &[(i64, Option<Uuid>, bool)]) {
        let r = self.lock();
        let mut highest: HashMap<u64, i64> = HashMap::new();
        for &(seq, customer, staff_only) in changes {
            for (id, _) in r.receivers(customer, staff_only) {
                let h = highest.entry(id).or_insert(seq);
                *h = (*h).max(seq);
            }
        }
        for (id, cursor) in highest {
            if let Some(c) = r.conns.get(&id) {
                c.offer(&LiveServerMessage::Changed { cursor });
            }
        }
    }

    /// A staff member chose `available` or `away` (`offline` is taken as
    /// `away`: offline means no connection).
    pub fn set_presence(&self, who: impl Into<Peer>, status: Presence) {
        let who: Peer = who.into();
        let mut r = self.lock();
        let status = if status == Presence::Offline {
            Presence::Away
        } else {
            status
        };
        r.presence.insert(who.user, (who.name.clone(), status));
        r.announce(who.user, who.name, status);
    }

    /// Staff members connected and available.
    pub fn available_staff(&self) -> Vec<Uuid> {
        let r = self.lock();
        r.presence
            .iter()
            .filter(|(_, (_, s))| *s == Presence::Available)
            .map(|(u, _)| *u)
            .collect()
    }

    /// `who` is typing in a conversation of `customer`: tell the others who
    /// may see it (never `who`'s own devices).
    pub fn publish_typing(&self, conversation_id: Uuid, customer: Uuid, who: &Peer) {
        let msg = LiveServerMessage::Typing {
            conversation_id,
            user_id: who.user,
            name: who.name.clone(),
            role: who.role,
        };
        self.route(Some(customer), false, Some(who.user), &msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::live::{CLOSE_ACCOUNT_DELETED, CLOSE_SESSION_ENDED};

    fn peer(role: Role) -> Peer {
        Peer {
            user: Uuid::new_v4(),
            session: Uuid::new_v4(),
            role,
            name: "X".into(),
        }
    }

    fn drain(reg: &mut Registration) -> Vec<LiveServerMessage> {
        std::iter::from_fn(|| reg.rx.try_recv().ok()).collect()
    }

    fn changed(cursors: &[i64]) -> Vec<LiveServerMessage> {
        cursors
            .iter()
            .map(|&cursor| LiveServerMessage::Changed { cursor })
            .collect()
    }

    #[test]
    fn a_customers_change_reaches_only_that_customers_sockets_and_staff() {
        let hub = Arc::new(Hub::default());
        let (a, b, agent) = (
            peer(Role::Customer),
            peer(Role::Customer),
            peer(Role::Agent),
        );
        let (mut a1, mut a2) = (hub.register(&a), hub.register(&a));
        let mut rb = hub.register(&b);
        let mut rs = hub.register(&agent);
        drain(&mut rs); // own presence
        hub.publish_change(1, Some(a.user), false);
        hub.publish_change(2, None, false);
        assert_eq!(drain(&mut a1), changed(&[1]), "both of a's devices");
        assert_eq!(drain(&mut a2), changed(&[1]));
        assert_eq!(drain(&mut rb), vec![], "nothing for another customer");
        assert_eq!(drain(&mut rs), changed(&[1, 2]), "staff see everything");
    }

    #[test]
    fn staff_only_changes_never_reach_customers() {
        let hub = Arc::new(Hub::default());
        let (a, admin) = (peer(Role::Customer), peer(Role::Admin));
        let mut ra = hub.register(&a);
        let mut rs = hub.register(&admin);
        drain(&mut rs);
        hub.publish_change(7, Some(a.user), true);
        hub.publish_change(8, None, true);
        assert_eq!(drain(&mut ra), vec![]);
        assert_eq!(drain(&mut rs), changed(&[7, 8]));
    }

    #[test]
    fn changes_committed_together_poke_each_connection_once_with_its_highest_cursor() {
        let hub = Arc::new(Hub::default());
        let (a, b, agent) = (
            peer(Role::Customer),
            peer(Role::Customer),
            peer(Role::Agent),
        );
        let (mut ra, mut rb) = (hub.register(&a), hub.register(&b));
        let mut rs = hub.register(&agent);
        drain(&mut rs);
        hub.publish_changes(&[
            (10, Some(a.user), false),
            (11, Some(a.user), false),
            (12, Some(b.user), false),
            (13, Some(a.user), true),
        ]);
        assert_eq!(drain(&mut ra), changed(&[11]), "a's last visible change");
        assert_eq!(drain(&mut rb), changed(&[12]));
        assert_eq!(drain(&mut rs), changed(&[13]), "staff: the commit's last");
        hub.publish_changes(&[(14, Some(a.user), true)]);
        assert_eq!(drain(&mut ra), vec![], "nothing a may see");
    }

    #[test]
    fn typing_is_not_echoed_and_a_full_queue_marks_lag() {
        let hub = Arc::new(Hub::default());
        let (a, b, agent) = (
            peer(Role::Customer),
            peer(Role::Customer),
            peer(Role::Agent),
        );
        let mut ra = hub.register(&a);
        let rb = hub.register(&b);
        let mut rs = hub.register(&agent);
        assert!(
            matches!(drain(&mut rs)[..], [LiveServerMessage::Presence { .. }]),
            "staff see their own presence"
        );
        assert_eq!(drain(&mut ra), vec![], "customers get no presence");
        hub.publish_typing(Uuid::nil(), a.user, &a);
        assert_eq!(drain(&mut ra), vec![], "no echo of one's own typing");
        assert!(matches!(
            drain(&mut rs)[..],
            [LiveServerMessage::Typing { .. }]
        ));
        for seq in 0..(QUEUE as i64 + 10) {
            hub.publish_change(seq, Some(b.user), false);
        }
        assert!(
            rb.lagged.load(Ordering::Relaxed),
            "a full queue marks the connection lagged"
        );
        assert!(!ra.lagged.load(Ordering::Relaxed));
        assert_eq!(hub.connections(), 3);
        drop(rb);
        assert_eq!(hub.connections(), 2);
    }

    #[test]
    fn staff_presence_is_shared_among_staff_and_goes_offline_with_the_last_connection() {
        let hub = Arc::new(Hub::default());
        let (ana, luis) = (peer(Role::Agent), peer(Role::Admin));
        let mut ra = hub.register(&ana);
        let mut rl = hub.register(&luis);
        let presence = |m: Option<LiveServerMessage>| match m {
            Some(LiveServerMessage::Presence {
                user_id, status, ..
            }) => Some((user_id, status)),
            _ => None,
        };
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((ana.user, Presence::Available))
        );
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((luis.user, Presence::Available))
        );
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((ana.user, Presence::Available)),
            "the newcomer learns who is there"
        );
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((luis.user, Presence::Available))
        );
        hub.set_presence(ana.clone(), Presence::Away);
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((ana.user, Presence::Away))
        );
        assert_eq!(hub.available_staff(), vec![luis.user]);
        let second = hub.register(&luis);
        drop(second);
        assert!(
            presence(ra.rx.try_recv().ok()).is_some_and(|p| p.1 == Presence::Away),
            "own away echoed"
        );
        assert!(
            ra.rx.try_recv().is_err(),
            "luis still has a connection: no offline"
        );
        drop(rl);
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((luis.user, Presence::Offline))
        );
        assert!(hub.available_staff().is_empty());
    }

    #[test]
    fn closing_a_user_takes_them_offline_at_once_and_closes_only_their_sockets() {
        let hub = Arc::new(Hub::default());
        let (ana, luis) = (peer(Role::Agent), peer(Role::Agent));
        let ra = hub.register(&ana);
        let mut rl = hub.register(&luis);
        drain(&mut rl);
        hub.close_user(ana.user, CLOSE_ACCOUNT_DELETED, None);
        assert_eq!(*ra.close.borrow(), Some(CLOSE_ACCOUNT_DELETED));
        assert_eq!(*rl.close.borrow(), None);
        assert!(matches!(
            drain(&mut rl)[..],
            [LiveServerMessage::Presence {
                status: Presence::Offline,
                ..
            }]
        ));
        assert_eq!(hub.available_staff(), vec![luis.user]);
    }

    #[test]
    fn one_session_holds_at_most_the_cap_of_sockets() {
        let hub = Arc::new(Hub::default());
        let a = peer(Role::Customer);
        let other = Peer {
            session: Uuid::new_v4(),
            ..a.clone()
        };
        let mut regs: Vec<_> = (0..MAX_SOCKETS_PER_SESSION - 1)
            .map(|_| hub.register(&a))
            .collect();
        assert!(!hub.session_full(a.session));
        regs.push(hub.register(&a));
        assert!(hub.session_full(a.session), "the cap is reached");
        let elsewhere = hub.register(&other);
        assert!(!hub.session_full(other.session), "the cap is per session");
        regs.pop();
        assert!(
            !hub.session_full(a.session),
            "a closed socket frees a place"
        );
        hub.close_session(a.session, CLOSE_SESSION_ENDED);
        assert!(regs
            .iter()
            .all(|r| *r.close.borrow() == Some(CLOSE_SESSION_ENDED)));
        assert_eq!(*elsewhere.close.borrow(), None);
    }
}
