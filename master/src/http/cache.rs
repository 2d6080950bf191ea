//! JSON rendered from shared values, kept from one render to the next so
//! that a value is rendered again only after the master changed it.
//!
//! The master shares what it renders as `Arc`s (tasks, agents, completed
//! frameworks) and changes a task only through `Arc::make_mut`. A cache
//! entry is keyed by the value's address and holds a `Weak` to it, which
//! keeps the address from being reused. `make_mut` on a value the cache
//! knows moves it to a new address first (a `Weak` forbids changing it in
//! place), so a value found at a cached address is the very value that
//! was rendered, unchanged. Nothing has to tell the cache about changes,
//! and the master's state stays its own.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use mesos_proto::mesos::Task;

use super::snapshot::{AgentView, FrameworkView, TaskList};

type Map<V> = HashMap<usize, V, foldhash::fast::RandomState>;

/// Rendered JSON per shared value.
pub struct Rendered<T: ?Sized> {
    entries: Map<(Weak<T>, Box<[u8]>)>,
    /// How many entries the last pruning kept.
    kept: usize,
}

impl<T: ?Sized> Default for Rendered<T> {
    fn default() -> Self {
        Rendered {
            entries: Map::default(),
            kept: 0,
        }
    }
}

impl<T: ?Sized> Rendered<T> {
    /// The JSON of `value`, rendered by `render` unless it was before.
    pub fn get(&mut self, value: &Arc<T>, render: impl FnOnce(&T) -> Vec<u8>) -> &[u8] {
        // The entry's `Weak` keeps its address from being reused, so an
        // entry at the value's address was made from this very value.
        let key = Arc::as_ptr(value) as *const () as usize;
        self.entries
            .entry(key)
            .or_insert_with(|| (Arc::downgrade(value), render(value).into_boxed_slice()))
            .1
            .as_ref()
    }

    /// Forgets values the master has dropped or replaced.
    pub fn prune(&mut self) {
        self.entries.retain(|_, (weak, _)| weak.strong_count() > 0);
        self.kept = self.entries.len();
    }

    /// Prunes once there may be about as many forgotten values as kept
    /// ones: checking costs a look at every value, so not every batch.
    pub fn prune_if_grown(&mut self) {
        if self.entries.len() > 2 * self.kept + 1024 {
            self.prune();
        }
    }

    /// How many values have JSON kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no value has JSON kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The JSON of tasks: each task's object, and each task list's array
/// (a framework's tasks, as a snapshot shares them while unchanged).
#[derive(Default)]
pub struct TaskJson {
    one: Rendered<Task>,
    lists: Rendered<[Arc<Task>]>,
}

impl TaskJson {
    /// A task's JSON object.
    pub fn task(&mut self, task: &Arc<Task>) -> &[u8] {
        self.one.get(task, super::model::task::task)
    }

    /// A task list's JSON array.
    pub fn list(&mut self, list: &TaskList) -> &[u8] {
        let TaskJson { one, lists } = self;
        lists.get(list, |list| {
            let mut out = Vec::new();
            super::json::array(&mut out, |a| {
                for task in list {
                    a.raw(one.get(task, super::model::task::task));
                }
            });
            out
        })
    }

    fn prune(&mut self) {
        self.one.prune_if_grown();
        // A few lists per framework, each holding its slice (a pointer per
        // task) until forgotten: cheap to check, dear to keep.
        self.lists.prune();
    }
}

/// Everything the renderers keep between batches.
#[derive(Default)]
pub struct RenderCache {
    /// Tasks' and task lists' JSON.
    pub tasks: TaskJson,
    /// The members an agent shows everywhere (Mesos's `SlaveWriter`).
    pub agents: Rendered<AgentView>,
    /// The `*_full` resource members `/master/slaves` adds.
    pub agents_full: Rendered<AgentView>,
    /// A completed framework's JSON object.
    pub completed_frameworks: Rendered<FrameworkView>,
    /// How long each endpoint's last body was, to size the next one.
    pub sizes: HashMap<&'static str, usize>,
}

impl RenderCache {
    /// Forgets what the master no longer holds.
    pub fn prune(&mut self) {
        self.tasks.prune();
        self.agents.prune_if_grown();
        self.agents_full.prune_if_grown();
        self.completed_frameworks.prune_if_grown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> Task {
        let mut task = Task::default();
        task.task_id.value = id.into();
        task.state = 0;
        task
    }

    fn render(t: &Task) -> Vec<u8> {
        format!("{}/{}", t.task_id.value, t.state).into_bytes()
    }

    #[test]
    fn renders_again_only_what_changed() {
        let mut cache = Rendered::default();
        let calls = std::cell::Cell::new(0);
        let count = |t: &Task| {
            calls.set(calls.get() + 1);
            render(t)
        };
        let mut a = Arc::new(task("a"));
        let b = Arc::new(task("b"));
        assert_eq!(cache.get(&a, count), b"a/0");
        assert_eq!(cache.get(&b, count), b"b/0");
        assert_eq!(cache.get(&a, count), b"a/0");
        assert_eq!(calls.get(), 2);

        // The master changes `a` as its handlers do; no snapshot holds it.
        Arc::make_mut(&mut a).state = 1;
        assert_eq!(cache.get(&a, count), b"a/1");
        assert_eq!(cache.get(&b, count), b"b/0");
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn a_change_while_a_snapshot_holds_the_task_is_seen() {
        let mut cache = Rendered::default();
        let mut live = Arc::new(task("a"));
        let held = live.clone();
        assert_eq!(cache.get(&held, render), b"a/0");
        Arc::make_mut(&mut live).state = 2;
        assert_eq!(cache.get(&held, render), b"a/0");
        assert_eq!(cache.get(&live, render), b"a/2");
    }

    #[test]
    fn pruning_forgets_dropped_and_replaced_values() {
        let mut cache = Rendered::default();
        let mut kept = Arc::new(task("kept"));
        let dropped = Arc::new(task("dropped"));
        cache.get(&kept, render);
        cache.get(&dropped, render);
        drop(dropped);
        Arc::make_mut(&mut kept).state = 1;
        cache.get(&kept, render);
        cache.prune();
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&kept, render), b"kept/1");
    }
}

#[cfg(test)]
mod task_json_tests {
    use super::*;

    fn task(id: &str) -> Arc<Task> {
        let mut task = Task::default();
        task.task_id.value = id.into();
        Arc::new(task)
    }

    fn ids(json: &[u8]) -> Vec<String> {
        let value: serde_json::Value = serde_json::from_slice(json).unwrap();
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn a_list_renders_as_an_array_of_its_tasks_and_again_once_replaced() {
        let mut json = TaskJson::default();
        let list: TaskList = Arc::from(vec![task("a"), task("b")]);
        assert_eq!(ids(json.list(&list)), ["a", "b"]);
        assert_eq!(ids(json.list(&list)), ["a", "b"]);
        let longer: TaskList = list.iter().cloned().chain([task("c")]).collect();
        assert_eq!(ids(json.list(&longer)), ["a", "b", "c"]);
        let empty: TaskList = Arc::from(Vec::new());
        assert_eq!(json.list(&empty), b"[]");
    }
}
