//! Business hours and the callback slot grid: pure code, table-tested.
//!
//! Slots are laid from the opening time of each business day in the
//! business time zone (so a slot is always "09:30 in Madrid", DST or not) and
//! must end by closing time.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

#[derive(Clone)]
pub struct BusinessHours {
    pub tz_name: String,
    pub tz: TimeZone,
    pub open: Time,
    pub close: Time,
    pub days: Vec<Weekday>,
    pub slot: SignedDuration,
    /// Callbacks per slot.
    pub capacity: i64,
    /// How far ahead a callback window may end (`--callback-horizon-days`).
    pub horizon: SignedDuration,
    /// Upcoming callbacks one customer may hold (`--callbacks-per-customer`).
    pub max_upcoming_per_customer: i64,
    /// Upcoming callbacks to one phone number, across customers
    /// (`--callbacks-per-phone`).
    pub max_upcoming_per_phone: i64,
}

/// Default upcoming callbacks per customer.
pub const DEFAULT_UPCOMING_PER_CUSTOMER: i64 = 3;
/// Default upcoming callbacks per phone number.
pub const DEFAULT_UPCOMING_PER_PHONE: i64 = 3;

/// Default booking horizon: 60 days.
pub const DEFAULT_HORIZON_DAYS: u32 = 60;

impl fmt::Debug for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BusinessHours({} {}-{} {:?}, {} min slots × {})",
            self.tz_name,
            self.open,
            self.close,
            self.days,
            self.slot.as_mins(),
            self.capacity
        )
    }
}

impl BusinessHours {
    /// `hours` like `09:00-18:00`; `days` like `mon-fri` or `mon,wed,sat`.
    pub fn new(
        tz: &str,
        hours: &str,
        days: &str,
        slot_minutes: u32,
        capacity: u32,
    ) -> anyhow::Result<Self> {
        let zone =
            TimeZone::get(tz).map_err(|e| anyhow::anyhow!("unknown time zone {tz:?}: {e}"))?;
        let (open, close) = hours
            .split_once('-')
            .ok_or_else(|| anyhow::anyhow!("business hours must look like 09:00-18:00"))?;
        let open = Time::from_str(&format!("{}:00", open.trim()))?;
        let close = Time::from_str(&format!("{}:00", close.trim()))?;
        anyhow::ensure!(open < close, "business hours must open before they close");
        anyhow::ensure!(
            (5..=240).contains(&slot_minutes),
            "slot length must be 5 to 240 minutes"
        );
        anyhow::ensure!(capacity >= 1, "slot capacity must be at least 1");
        Ok(Self {
            tz_name: tz.to_owned(),
            tz: zone,
            open,
            close,
            days: parse_days(days)?,
            slot: SignedDuration::from_mins(i64::from(slot_minutes)),
            capacity: i64::from(capacity),
            horizon: SignedDuration::from_hours(24 * i64::from(DEFAULT_HORIZON_DAYS)),
            max_upcoming_per_customer: DEFAULT_UPCOMING_PER_CUSTOMER,
            max_upcoming_per_phone: DEFAULT_UPCOMING_PER_PHONE,
        })
    }

    /// Every slot that lies entirely within `[from, to]`, in order.
    pub fn slots(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        if to <= from {
            return out;
        }
        let mut day = from.to_zoned(self.tz.clone()).date();
        let last = to.to_zoned(self.tz.clone()).date();
        while day <= last {
            if self.days.contains(&day.weekday()) {
                let (Ok(open), Ok(close)) = (
                    day.to_datetime(self.open).to_zoned(self.tz.clone()),
                    day.to_datetime(self.close).to_zoned(self.tz.clone()),
                ) else {
                    break;
                };
                let close = close.timestamp();
                let mut start = open.timestamp();
                while let Ok(end) = start.checked_add(self.slot) {
                    if end > close {
                        break;
                    }
                    if start >= from && end <= to {
                        out.push((start, end));
                    }
                    start = end;
                }
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        out
    }
}

fn parse_days(s: &str) -> anyhow::Result<Vec<Weekday>> {
    const NAMES: [(&str, Weekday); 7] = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    let index = |name: &str| {
        NAMES
            .iter()
            .position(|(n, _)| *n == name.trim().to_lowercase())
            .ok_or_else(|| anyhow::anyhow!("unknown day {name:?} (use mon..sun)"))
    };
    let mut days = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (index(a)?, index(b)?);
                anyhow::ensure!(a <= b, "day range {part:?} runs backwards");
                days.extend(NAMES[a..=b].iter().map(|(_, d)| *d));
            }
            None => days.push(NAMES[index(part)?].1),
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn madrid() -> BusinessHours {
        BusinessHours::new("Europe/Madrid", "09:00-18:00", "mon-fri", 30, 2).unwrap()
    }

    #[test]
    fn slots_follow_local_business_hours_across_dst() {
        let h = madrid();
        // Friday 2026-03-27 (UTC+1) and Monday 2026-03-30 (UTC+2, after DST).
        let slots = h.slots(ts("2026-03-27T00:00:00Z"), ts("2026-03-31T00:00:00Z"));
        assert_eq!(
            slots.len(),
            2 * 18,
            "two weekdays of 18 half-hour slots; weekend skipped"
        );
        assert_eq!(slots[0].0, ts("2026-03-27T08:00:00Z"));
        assert_eq!(slots[17].1, ts("2026-03-27T17:00:00Z"));
        assert_eq!(
            slots[18].0,
            ts("2026-03-30T07:00:00Z"),
            "09:00 Madrid is 07:00 UTC in summer"
        );
    }

    #[test]
    fn only_whole_slots_inside_the_range() {
        let h = madrid();
        let slots = h.slots(ts("2026-11-23T09:10:00Z"), ts("2026-11-23T10:30:00Z"));
        // 10:30 and 11:00 Madrid start inside; 11:30 would end after 11:30 Madrid.
        let starts: Vec<Timestamp> = slots.iter().map(|s| s.0).collect();
        assert_eq!(
            starts,
            [ts("2026-11-23T09:30:00Z"), ts("2026-11-23T10:00:00Z")]
        );
        assert!(h
            .slots(ts("2026-11-23T10:00:00Z"), ts("2026-11-23T09:00:00Z"))
            .is_empty());
    }

    #[test]
    fn configuration_is_validated() {
        assert!(BusinessHours::new("Mars/Olympus", "09:00-18:00", "mon-fri", 30, 1).is_err());
        assert!(BusinessHours::new("UTC", "18:00-09:00", "mon-fri", 30, 1).is_err());
        assert!(BusinessHours::new("UTC", "09:00-18:00", "fri-mon", 30, 1).is_err());
        assert!(BusinessHours::new("UTC", "09:00-18:00", "mon-fri", 0, 1).is_err());
        let h = BusinessHours::new("UTC", "10:00-12:00", "sat,sun", 60, 1).unwrap();
        assert_eq!(h.days, [Weekday::Saturday, Weekday::Sunday]);
    }
}
