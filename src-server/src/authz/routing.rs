//! The routing rule of live events: pure, with no dependency in the crate,
//! so the live hub (`live::hub`) can apply it without pulling in the
//! database or HTTP.

use uuid::Uuid;

/// The routing rule of live events: may a connection of `viewer` (staff or
/// not) hear of a change to `customer`'s data (`None`: no customer's),
/// marked `staff_only` (internal notes, staff records)? Staff hear of
/// everything; a customer only of their own data that is not staff-only.
pub fn may_receive(
    viewer_is_staff: bool,
    viewer: Uuid,
    customer: Option<Uuid>,
    staff_only: bool,
) -> bool {
    viewer_is_staff || (!staff_only && customer == Some(viewer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_hear_of_everything_customers_only_of_their_own_shared_data() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(may_receive(true, me, Some(other), true));
        assert!(may_receive(true, me, None, false));
        assert!(may_receive(false, me, Some(me), false));
        assert!(!may_receive(false, me, Some(me), true), "staff-only");
        assert!(!may_receive(false, me, Some(other), false), "another's");
        assert!(!may_receive(false, me, None, false), "nobody's");
    }
}
