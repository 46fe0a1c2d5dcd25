//! Rules of sign-up and login, pure.

mod email;
mod lockout;
mod password;

pub use email::{Email, InvalidEmail};
pub use lockout::{Lockout, Window};
pub use password::PasswordPolicy;
