//! Why a resolved TaskRun cannot become Kubernetes objects.

/// A TaskRun the translation refuses, naming what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// A step without `command` or `script` whose image's ENTRYPOINT/CMD the caller did not
    /// resolve: the entrypoint must be told what to run, and cannot ask the image itself.
    #[error(
        "step \"{step}\" has neither command nor script, and the ENTRYPOINT/CMD of its image \
         \"{image}\" was not resolved; give the step a `command`, or resolve the image's \
         configuration before building the Pod"
    )]
    MissingImageCommand {
        /// The step's name.
        step: String,
        /// Its image.
        image: String,
    },
    /// The image's resolved configuration has neither ENTRYPOINT nor CMD.
    #[error(
        "step \"{step}\" has neither command nor script, and its image \"{image}\" has neither \
         ENTRYPOINT nor CMD; give the step a `command` or a `script`"
    )]
    EmptyImageCommand {
        /// The step's name.
        step: String,
        /// Its image.
        image: String,
    },
    /// A workspace binding with no source a Pod can mount.
    #[error(
        "workspace \"{workspace}\": {message}; bind it with emptyDir, persistentVolumeClaim, \
         volumeClaimTemplate, configMap, secret, projected or csi"
    )]
    UnsupportedWorkspace {
        /// The Task's workspace name.
        workspace: String,
        /// What is wrong with its binding.
        message: String,
    },
    /// Two of the Pod's volumes would share a name.
    #[error(
        "the Pod would have two volumes named \"{name}\" (a Task or podTemplate volume clashes \
         with {other}); rename the volume"
    )]
    DuplicateVolume {
        /// The name.
        name: String,
        /// What else uses it.
        other: String,
    },
    /// A step `timeout` the entrypoint could not parse.
    #[error("step \"{step}\": timeout \"{value}\" is not a duration such as 30s or 1h5m")]
    InvalidStepTimeout {
        /// The step's name.
        step: String,
        /// The text given.
        value: String,
    },
    /// The scripts do not fit in one ConfigMap.
    #[error(
        "the scripts of TaskRun \"{task_run}\" take {bytes} bytes, more than the {limit} a \
         ConfigMap holds; move large scripts into the image or a workspace"
    )]
    ScriptsTooLarge {
        /// The TaskRun.
        task_run: String,
        /// Their total size.
        bytes: usize,
        /// The ConfigMap limit.
        limit: usize,
    },
    /// A label value Kubernetes would reject (at most 63 characters of `[A-Za-z0-9-_.]`,
    /// starting and ending alphanumeric).
    #[error(
        "label {key}=\"{value}\" is not a valid label value (at most 63 letters, digits, '-', \
         '_' or '.', starting and ending with a letter or digit); shorten the name"
    )]
    InvalidLabel {
        /// The label key.
        key: String,
        /// The value.
        value: String,
    },
}
