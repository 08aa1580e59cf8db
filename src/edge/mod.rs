//! The Workers glue (wasm32 only): one implementation of each port, and the fetch entry point
//! that converts a `worker::Request` into a [`crate::http::RequestView`], calls
//! [`crate::app::handle`], and turns the [`crate::http::Outcome`] back into a `Response`.

mod entry;
mod platform;
pub mod subtle;
