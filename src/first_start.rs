//! First start: on an empty database, the first admin account.

use crate::{
    audit::RequestMeta,
    directory::service::{self as directory, NewStaff},
    domain::Role,
    error::ServiceResult,
    state::AppState,
    text::{Line, NewPassword, Username},
};

/// On an empty database, creates the `admin` account with a random password
/// and returns that password (to be shown once, on the console only).
pub async fn ensure_admin(state: &AppState) -> ServiceResult<Option<String>> {
    if directory::any_staff(&state.db).await? {
        return Ok(None);
    }
    let password = crate::credentials::random_password();
    directory::create_staff(
        state,
        None,
        &RequestMeta::default(),
        NewStaff {
            id: None,
            username: Username::for_field("username", "admin")?,
            display_name: Line::for_field("display_name", "Administrator")?,
            role: Role::Admin,
            branches: vec![],
            password: NewPassword::for_field("password", &password)?,
        },
    )
    .await?;
    Ok(Some(password))
}
