//! What a [`super::Page`] records: the tab's DevTools events (console calls, log entries,
//! exceptions, requests and their blocking, load events) turned into plain strings as they
//! arrive, on the tab's event thread, under one lock the test side waits on.

use std::sync::{Condvar, Mutex, MutexGuard};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Runtime;
use serde::Serialize;
use serde_json::Value;

/// What a tab has seen so far; written by the tab's event thread, read by the test.
#[derive(Default)]
pub struct Record {
    seen: Mutex<Seen>,
    pub changed: Condvar,
}

#[derive(Default)]
pub struct Seen {
    pub console: Vec<(String, String)>,
    pub requests: Vec<Request>,
    /// Loader ids of the documents whose load event has fired.
    pub loaded: Vec<String>,
}

/// One Network.requestWillBeSent, and the reason if the browser itself then refused it.
pub struct Request {
    id: String,
    pub url: String,
    pub blocked: Option<String>,
}

impl Record {
    pub fn lock(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn note(&self, event: &Event) {
        let mut seen = self.lock();
        match event {
            Event::RuntimeConsoleAPICalled(e) => {
                let text: Vec<String> = e.params.args.iter().map(remote_text).collect();
                seen.console.push((name(&e.params.Type), text.join(" ")));
            }
            Event::RuntimeExceptionThrown(e) => {
                let details = &e.params.exception_details;
                let what = details.exception.as_ref().map(remote_text);
                let text = format!("{} {}", details.text, what.unwrap_or_default());
                seen.console.push(("exception".into(), text.trim().into()));
            }
            Event::LogEntryAdded(e) => {
                let entry = &e.params.entry;
                let mut text = entry.text.clone();
                // "Failed to load resource" names no URL in its text; the entry carries it.
                match entry.url.as_deref() {
                    Some(url) if !url.is_empty() && !text.contains(url) => {
                        text = format!("{text} ({url})")
                    }
                    _ => {}
                }
                seen.console.push((name(&entry.level), text));
            }
            Event::NetworkRequestWillBeSent(e) => seen.requests.push(Request {
                id: e.params.request_id.clone(),
                url: e.params.request.url.clone(),
                blocked: None,
            }),
            Event::NetworkLoadingFailed(e) => {
                let Some(reason) = &e.params.blocked_reason else {
                    return;
                };
                let id = &e.params.request_id;
                for request in seen.requests.iter_mut().filter(|r| &r.id == id) {
                    request.blocked = Some(name(reason));
                }
            }
            Event::PageLifecycleEvent(e) if e.params.name == "load" => {
                seen.loaded.push(e.params.loader_id.clone())
            }
            _ => return,
        }
        drop(seen);
        self.changed.notify_all();
    }
}

/// A protocol enum's wire name ("error", "warning", …).
fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// One console argument as the console would print it: strings bare, other values as JSON,
/// objects by their description.
pub fn remote_text(object: &Runtime::RemoteObject) -> String {
    match (
        &object.value,
        &object.unserializable_value,
        &object.description,
    ) {
        (Some(Value::String(s)), _, _) => s.clone(),
        (Some(value), _, _) => value.to_string(),
        (None, Some(raw), _) => raw.clone(),
        (None, None, Some(description)) => description.clone(),
        (None, None, None) => name(&object.Type),
    }
}
