//! Rules of sign-up and login, pure.

mod email;
mod lockout;
mod password;

pub use email::{Email, InvalidEmail};
pub use lockout::{Counter, Lockout, Scope, Window};
pub use password::PasswordPolicy;
