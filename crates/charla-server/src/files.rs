//! Attachment storage on disk under the data folder.
