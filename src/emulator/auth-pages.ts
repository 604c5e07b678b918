/** The HTML of the emulated DESP (Keycloak) login, OTP and error pages. */
import { escapeHtml } from './http-util';

const head = (title: string): string =>
  `<!DOCTYPE html>\n<html class="login-pf" lang="en">\n<head>\n<meta charset="utf-8">\n` +
  `<meta name="robots" content="noindex, nofollow">\n<title>${escapeHtml(title)}</title>\n</head>\n` +
  `<body class="">\n<div class="login-pf-page">\n<div id="kc-header" class="login-pf-page-header">` +
  `<div id="kc-header-wrapper">DestinE Platform</div></div>\n<div class="card-pf">\n`;

const foot = `</div>\n</div>\n</body>\n</html>\n`;

const errorSpan = (message: string | undefined): string =>
  message
    ? `<span id="input-error" class="pf-c-form__helper-text pf-m-error required kc-feedback-text" aria-live="polite">\n` +
      `${escapeHtml(message)}\n</span>\n`
    : '';

export function loginPage(o: { action: string; username?: string; error?: string }): string {
  const invalid = o.error ? 'true' : 'false';
  return (
    head('Sign in to DESP') +
    `<h1 id="kc-page-title">Sign in to your account</h1>\n<div id="kc-content"><div id="kc-content-wrapper">\n` +
    `<div id="kc-form"><div id="kc-form-wrapper">\n` +
    `<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="${escapeHtml(o.action)}" method="post">\n` +
    `<div class="form-group">\n<label for="username" class="pf-c-form__label pf-c-form__label-text">Username or email</label>\n` +
    `<input tabindex="1" id="username" class="pf-c-form-control" name="username" value="${escapeHtml(o.username ?? '')}" ` +
    `type="text" autofocus autocomplete="off" aria-invalid="${invalid}"/>\n` +
    errorSpan(o.error) +
    `</div>\n<div class="form-group">\n<label for="password" class="pf-c-form__label pf-c-form__label-text">Password</label>\n` +
    `<input tabindex="2" id="password" class="pf-c-form-control" name="password" type="password" autocomplete="off" aria-invalid="${invalid}"/>\n` +
    `</div>\n<div id="kc-form-buttons" class="form-group">\n` +
    `<input type="hidden" id="id-hidden-input" name="credentialId"/>\n` +
    `<input tabindex="4" class="pf-c-button pf-m-primary pf-m-block btn-lg" name="login" id="kc-login" type="submit" value="Sign In"/>\n` +
    `</div>\n</form>\n</div></div>\n</div></div>\n` +
    foot
  );
}

export function otpPage(o: { action: string; error?: string }): string {
  const invalid = o.error ? 'true' : 'false';
  return (
    head('Sign in to DESP') +
    `<h1 id="kc-page-title">Sign in to your account</h1>\n<div id="kc-content"><div id="kc-content-wrapper">\n` +
    `<form id="kc-otp-login-form" class="pf-c-form pf-m-horizontal" action="${escapeHtml(o.action)}" method="post">\n` +
    `<div class="pf-c-form__group">\n<label for="otp" class="pf-c-form__label pf-c-form__label-text">One-time code</label>\n` +
    `<input id="otp" name="otp" autocomplete="off" type="text" class="pf-c-form-control" autofocus aria-invalid="${invalid}"/>\n` +
    errorSpan(o.error) +
    `</div>\n<div id="kc-form-buttons" class="pf-c-form__group">\n` +
    `<input class="pf-c-button pf-m-primary pf-m-block btn-lg" name="login" id="kc-login" type="submit" value="Sign In"/>\n` +
    `</div>\n</form>\n</div></div>\n` +
    foot
  );
}

export function errorPage(message: string): string {
  return (
    head('Sign in to DESP') +
    `<h1 id="kc-page-title">We are sorry...</h1>\n<div id="kc-content"><div id="kc-content-wrapper">\n` +
    `<div id="kc-error-message">\n<p class="instruction">${escapeHtml(message)}</p>\n</div>\n</div></div>\n` +
    foot
  );
}
