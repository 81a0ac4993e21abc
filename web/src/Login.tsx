import { useState } from 'preact/hooks';
import { ApiError } from './api';
import { LANGS, getLang, t } from './i18n';
import { applyLang, login } from './store';
import { Spinner } from './ui';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await login(email, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('auth.invalid'));
      else if (err instanceof ApiError && err.code === 'too_many_attempts') setError(t('auth.tooMany'));
      else if (err instanceof ApiError && err.status === 0) setError(t('error.network'));
      else setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div class="login-brand">
          <svg width="40" height="40" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="var(--accent)" /><path d="M9 10.5A2.5 2.5 0 0 1 11.5 8h9A2.5 2.5 0 0 1 23 10.5v7a2.5 2.5 0 0 1-2.5 2.5H15l-4.2 3.4c-.5.4-1.3 0-1.3-.6V20A2.5 2.5 0 0 1 9 17.5z" fill="#fff" /></svg>
        </div>
        <h1 id="login-title">{t('auth.title')}</h1>
        <p class="muted center-text">{t('auth.subtitle')}</p>
        {error && (
          <div class="form-error" role="alert">
            {error}
          </div>
        )}
        <label class="field">
          <span class="field-label">{t('auth.email')}</span>
          <input type="email" name="email" autocomplete="username" required autofocus value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="field-label">{t('auth.password')}</span>
          <input type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? <Spinner size={16} /> : t('auth.submit')}
        </button>
        <div class="login-langs" role="group" aria-label={t('header.language')}>
          {LANGS.map((l) => (
            <button type="button" key={l.code} class={'link-btn' + (getLang() === l.code ? ' active' : '')} aria-pressed={getLang() === l.code} onClick={() => applyLang(l.code)} lang={l.code}>
              {l.name}
            </button>
          ))}
        </div>
      </form>
    </div>
  );
}
