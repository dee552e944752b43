//! Callbacks: booking inside business hours and slot capacity, nearest free
//! slots when full, cancel, reschedule, the staff queue and outcomes, on
//! SQLite and PostgreSQL.

mod common;

use common::{Backend, TestServer};
use jiff::{SignedDuration, Timestamp, ToSpan};
use mostrador_core::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

/// Tomorrow at `hh:mm` UTC.
fn tomorrow(hh: i8, mm: i8) -> Timestamp {
    let d = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap();
    d.at(hh, mm, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
}

fn request(channel: &str, phone: Option<&str>, start: Timestamp, end: Timestamp) -> Value {
    json!({"id": Uuid::new_v4(), "channel": channel, "phone": phone, "topic": "Delayed parcel",
           "time_zone": "Europe/Madrid", "windows": [{"start": start, "end": end}]})
}

async fn booking_respects_capacity_and_suggests_nearest_slots(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _) = s.customer("a@example.com").await;
    let (b, _) = s.customer("b@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (ten, eleven) = (tomorrow(10, 0), tomorrow(11, 0));

    let (st, v) = s
        .post(
            "/api/v1/callbacks",
            Some(&a),
            request("voice", None, ten, eleven),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["phone"].as_str()),
        (422, Some("required"))
    );
    let (st, v) = s
        .post(
            "/api/v1/callbacks",
            Some(&a),
            request("voice", Some("12345"), ten, eleven),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["phone"].as_str()),
        (422, Some("not_e164"))
    );
    let past = Timestamp::now() - 2.hours();
    let (st, v) = s
        .post(
            "/api/v1/callbacks",
            Some(&a),
            request("video", None, past, past + 1.hours()),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["windows"].as_str()),
        (422, Some("in_the_past"))
    );
    let (st, _) = s
        .post(
            "/api/v1/callbacks",
            Some(&agent),
            request("video", None, ten, eleven),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // A books the 10:00 slot; with capacity 1, B's only window (10:00-10:30) is full.
    let (st, cb) = s
        .post(
            "/api/v1/callbacks",
            Some(&a),
            request("voice", Some("+34 911 234 567"), ten, eleven),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{cb}");
    assert_eq!(cb["status"], "scheduled");
    assert_eq!(cb["phone"], "+34911234567");
    assert_eq!(
        cb["slot_start"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        ten
    );
    let (st, v) = s
        .post(
            "/api/v1/callbacks",
            Some(&b),
            request("video", None, ten, ten + SignedDuration::from_mins(30)),
        )
        .await;
    assert_eq!(
        (st, v["details"]["reason"].as_str()),
        (StatusCode::CONFLICT, Some("no_slot"))
    );
    let nearest = v["details"]["nearest_slots"].as_array().unwrap();
    assert!(!nearest.is_empty());
    assert_eq!(
        nearest[0]["start"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        tomorrow(10, 30)
    );

    let (_, slots) = s
        .get(
            &format!("/api/v1/callbacks/slots?from={ten}&to={eleven}"),
            &b,
        )
        .await;
    let starts: Vec<Timestamp> = slots
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["start"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(starts, [tomorrow(10, 30)], "the booked slot is not offered");

    // Privacy and roles.
    let id = cb["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/api/v1/callbacks/{id}"), &b).await.0,
        StatusCode::NOT_FOUND
    );
    let (st, _) = s
        .post(
            &format!("/api/v1/callbacks/{id}/outcome"),
            Some(&a),
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Cancelling frees the slot for B.
    let (st, v) = s
        .call(
            Method::POST,
            &format!("/api/v1/callbacks/{id}/cancel"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (st, b_cb) = s
        .post(
            "/api/v1/callbacks",
            Some(&b),
            request("video", None, ten, ten + SignedDuration::from_mins(30)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .post(
            &format!("/api/v1/callbacks/{id}/reschedule"),
            Some(&a),
            json!({"windows": [{"start": ten, "end": eleven}]}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a cancelled callback cannot be rescheduled"
    );

    // B moves to 15:00; the staff queue is ordered by slot; outcomes.
    let b_id = b_cb["id"].as_str().unwrap();
    let (st, moved) = s
        .post(
            &format!("/api/v1/callbacks/{b_id}/reschedule"),
            Some(&b),
            json!({"windows": [{"start": tomorrow(15, 0), "end": tomorrow(16, 0)}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        moved["slot_start"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        tomorrow(15, 0)
    );
    let (_, c2) = s
        .post(
            "/api/v1/callbacks",
            Some(&a),
            request("video", None, ten, eleven),
        )
        .await;
    let (_, queue) = s.get("/api/v1/callbacks?status=scheduled", &agent).await;
    let order: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [c2["id"].as_str().unwrap(), b_id]);
    let (st, _) = s
        .post(
            &format!("/api/v1/callbacks/{b_id}/outcome"),
            Some(&agent),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, done) = s
        .post(
            &format!("/api/v1/callbacks/{b_id}/outcome"),
            Some(&agent),
            json!({"status": "completed", "note": "Refund agreed"}),
        )
        .await;
    assert_eq!(
        (st, done["outcome_note"].as_str()),
        (StatusCode::OK, Some("Refund agreed"))
    );
    let (st, _) = s
        .post(
            &format!("/api/v1/callbacks/{b_id}/outcome"),
            Some(&agent),
            json!({"status": "missed"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = s
        .post(
            &format!("/api/v1/callbacks/{b_id}/cancel"),
            Some(&b),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    s.finish().await;
}

async fn callbacks_travel_through_push_and_sync(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _) = s.customer("a@example.com").await;
    let cb = request("video", None, tomorrow(9, 0), tomorrow(12, 0));
    let cb_id = cb["id"].clone();
    let mut args = cb.clone();
    args.as_object_mut().unwrap().remove("id");
    args["id"] = cb_id.clone();
    let (st, v) = s
        .post("/api/v1/sync/push", Some(&a), json!({"mutations": [
            {"client_id": Uuid::new_v4(), "op": "request_callback", "args": args},
            {"client_id": Uuid::new_v4(), "op": "cancel_callback", "args": {"callback_id": cb_id}},
        ]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["outcome"], "applied");
    assert_eq!(v["results"][1]["outcome"], "applied");
    let (_, page) = s.get("/api/v1/sync?since=0", &a).await;
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["entity"] == "callback")
        .unwrap()
        .clone();
    assert_eq!(item["data"]["status"], "cancelled");
    s.finish().await;
}

on_both_backends!(
    booking_respects_capacity_and_suggests_nearest_slots,
    callbacks_travel_through_push_and_sync,
);
