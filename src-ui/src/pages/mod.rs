//! One module per screen.

pub mod account;
pub mod agent;
pub mod attachments;
pub mod callbacks;
pub mod chat;
pub mod embed;
pub mod home;
pub mod orders;
pub mod profile;
pub mod signin;
pub mod status;
