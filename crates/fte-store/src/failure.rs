//! Database failures classified once, at the source.
//!
//! Whether a failure can go away by itself decides what every caller does:
//! a transient one (PostgreSQL unreachable or restarting, a pool timeout, a
//! serialization failure or deadlock, a lock not available, a row a
//! concurrent change moved) is retried with a bounded backoff; a permanent
//! one (a value the column cannot hold — too long, a NUL byte, a bad
//! encoding — or a constraint that refuses the row, or a statement the
//! schema does not accept) fails the same way every time and is
//! dead-lettered at once. The reason is content-free: the SQLSTATE and the
//! constraint or table name, never a value (PostgreSQL's message and detail
//! may quote the row).

use crate::StoreError;

/// What kind of database failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// PostgreSQL could not be reached or did not answer: connection, pool,
    /// I/O, TLS, protocol, timeout, the server shutting down or out of
    /// resources (SQLSTATE classes 08, 53, 57, 58).
    Unavailable,
    /// The transaction lost a race and may succeed when run again:
    /// serialization failure (40001), deadlock (40P01), lock not available
    /// (55P03), or a row a concurrent change moved or removed.
    Conflict,
    /// A value the column cannot hold (SQLSTATE class 22): too long, a NUL
    /// byte, an invalid encoding, out of range.
    Data,
    /// A constraint refused the row (SQLSTATE class 23).
    Integrity,
    /// The statement itself was refused or its result could not be read
    /// (SQLSTATE class 42, decoding, encoding): the code and the schema
    /// disagree, and no retry changes that.
    Rejected,
    /// Any other server error (class XX and the rest): retried, bounded.
    Internal,
}

impl FailureKind {
    /// Whether the same work may succeed later.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::Unavailable | FailureKind::Conflict | FailureKind::Internal
        )
    }

    /// A short label (dead-letter reasons, metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Unavailable => "database_unavailable",
            FailureKind::Conflict => "database_conflict",
            FailureKind::Data => "database_data",
            FailureKind::Integrity => "database_integrity",
            FailureKind::Rejected => "database_rejected",
            FailureKind::Internal => "database_internal",
        }
    }
}

/// The kind of a SQLSTATE.
pub fn kind_of_sqlstate(code: &str) -> FailureKind {
    match code {
        "40001" | "40P01" | "55P03" => FailureKind::Conflict,
        // A statement timeout: the server is there, the statement was slow.
        "57014" => FailureKind::Internal,
        _ => match code.get(..2).unwrap_or_default() {
            "08" | "53" | "57" | "58" => FailureKind::Unavailable,
            "22" => FailureKind::Data,
            "23" => FailureKind::Integrity,
            "40" => FailureKind::Conflict,
            "42" | "0A" | "2B" | "2D" | "3D" | "3F" | "44" => FailureKind::Rejected,
            _ => FailureKind::Internal,
        },
    }
}

fn kind_of(error: &sqlx::Error) -> FailureKind {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .map_or(FailureKind::Internal, |code| kind_of_sqlstate(&code)),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => FailureKind::Unavailable,
        sqlx::Error::RowNotFound => FailureKind::Conflict,
        sqlx::Error::Configuration(_)
        | sqlx::Error::InvalidArgument(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Encode(_)
        | sqlx::Error::Decode(_)
        | sqlx::Error::InvalidSavePointStatement
        | sqlx::Error::Migrate(_)
        | sqlx::Error::ConfigFile(_) => FailureKind::Rejected,
        _ => FailureKind::Internal,
    }
}

impl StoreError {
    /// What kind of failure this is (see the module doc).
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            StoreError::Database(error) => kind_of(error),
            StoreError::Timeout(_) => FailureKind::Unavailable,
            StoreError::Migrate(_) => FailureKind::Rejected,
        }
    }

    /// Whether retrying the same work later may succeed.
    pub fn is_transient(&self) -> bool {
        self.failure_kind().is_transient()
    }

    /// A content-free description: the kind, and for a server error its
    /// SQLSTATE and the constraint (or table) involved, e.g.
    /// `database_data sqlstate=22001`. Never a value from the row.
    pub fn reason(&self) -> String {
        let kind = self.failure_kind().as_str();
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return kind.to_owned();
        };
        let mut reason = kind.to_owned();
        if let Some(code) = db.code() {
            reason.push_str(" sqlstate=");
            reason.push_str(&code);
        }
        if let Some(constraint) = db.constraint() {
            reason.push_str(" constraint=");
            reason.push_str(constraint);
        } else if let Some(table) = db.table() {
            reason.push_str(" table=");
            reason.push_str(table);
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_their_kind() {
        for (code, kind) in [
            ("22001", FailureKind::Data),
            ("22021", FailureKind::Data),
            ("22P05", FailureKind::Data),
            ("23505", FailureKind::Integrity),
            ("23514", FailureKind::Integrity),
            ("40001", FailureKind::Conflict),
            ("40P01", FailureKind::Conflict),
            ("55P03", FailureKind::Conflict),
            ("08006", FailureKind::Unavailable),
            ("53300", FailureKind::Unavailable),
            ("57P01", FailureKind::Unavailable),
            ("57014", FailureKind::Internal),
            ("42P01", FailureKind::Rejected),
            ("XX000", FailureKind::Internal),
        ] {
            assert_eq!(kind_of_sqlstate(code), kind, "{code}");
        }
    }

    #[test]
    fn only_unavailable_conflict_and_internal_failures_are_transient() {
        assert!(FailureKind::Unavailable.is_transient());
        assert!(FailureKind::Conflict.is_transient());
        assert!(FailureKind::Internal.is_transient());
        assert!(!FailureKind::Data.is_transient());
        assert!(!FailureKind::Integrity.is_transient());
        assert!(!FailureKind::Rejected.is_transient());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_transient());
        assert!(StoreError::Timeout(std::time::Duration::from_secs(1)).is_transient());
    }
}
