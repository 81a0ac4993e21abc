import { useState } from 'preact/hooks';
import { t } from './i18n';

// A compact set of the emoji operators actually use, by category.
const CATEGORIES: { key: 'emoji.smileys' | 'emoji.gestures' | 'emoji.hearts' | 'emoji.objects' | 'emoji.symbols'; icon: string; list: string }[] = [
  { key: 'emoji.smileys', icon: '😀', list: '😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😗 😙 😚 😋 😛 😝 😜 🤪 🤨 🧐 🤓 😎 🤩 🥳 😏 😒 😞 😔 😟 😕 🙁 😣 😖 😫 😩 🥺 😢 😭 😤 😠 😡 🤯 😳 🥵 🥶 😱 😨 😰 😥 😓 🤗 🤔 🤭 🤫 🤥 😶 😐 😑 😬 🙄 😯 😦 😧 😮 😲 🥱 😴 🤤 😪 😵 🤐 🥴 🤢 🤮 🤧 😷 🤒 🤕' },
  { key: 'emoji.gestures', icon: '👍', list: '👍 👎 👌 🤌 🤏 ✌️ 🤞 🤟 🤘 🤙 👈 👉 👆 👇 ☝️ ✋ 🤚 🖐️ 🖖 👋 👏 🙌 👐 🤲 🤝 🙏 ✍️ 💪 🫶 👀 🧠 🙋 🙇 🤷 🤦 💁 🙆 🙅' },
  { key: 'emoji.hearts', icon: '❤️', list: '❤️ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣️ 💕 💞 💓 💗 💖 💘 💝 💯 ✨ ⭐ 🌟 🔥 🎉 🎊 🎁 🏆 🥇 🌹 🌸 🌈 ☀️ 🌙 ⚡ ❄️' },
  { key: 'emoji.objects', icon: '📦', list: '📦 🚚 ✈️ 🚗 🏠 🏢 🛒 💳 💰 🧾 📄 📎 📌 📅 ⏰ ⌛ 📞 📱 💻 🖥️ 🖨️ ⌨️ 📧 ✉️ 📬 🔑 🔒 🔓 🛠️ ⚙️ 🧰 💡 📷 🎧 ☕ 🍕 🍰 🎂 🍾 🥂' },
  { key: 'emoji.symbols', icon: '✅', list: '✅ ☑️ ✔️ ❌ ❎ ⚠️ ⛔ 🚫 ❓ ❗ ‼️ ⁉️ 💬 💭 🔔 🔕 ➡️ ⬅️ ⬆️ ⬇️ 🔄 🔁 ▶️ ⏸️ ⏹️ 🆗 🆕 🆓 ℹ️ 🔴 🟠 🟡 🟢 🔵 🟣 ⚫ ⚪' },
];

function recent(): string[] {
  try {
    return JSON.parse(localStorage.getItem('charla.emoji.recent') || '[]');
  } catch {
    return [];
  }
}

export function EmojiPicker({ onPick }: { onPick: (e: string) => void }) {
  const rec = recent();
  const [cat, setCat] = useState(rec.length ? -1 : 0);
  const list = cat === -1 ? rec : CATEGORIES[cat].list.split(' ');
  const pick = (e: string) => {
    const next = [e, ...recent().filter((x) => x !== e)].slice(0, 24);
    localStorage.setItem('charla.emoji.recent', JSON.stringify(next));
    onPick(e);
  };
  return (
    <div class="emoji-picker" data-testid="emoji-picker">
      <div class="emoji-tabs" role="tablist" aria-label={t('composer.emoji')}>
        {rec.length > 0 && (
          <button type="button" role="tab" aria-selected={cat === -1} class={cat === -1 ? 'active' : ''} onClick={() => setCat(-1)} title={t('emoji.recent')} aria-label={t('emoji.recent')}>
            🕘
          </button>
        )}
        {CATEGORIES.map((c, i) => (
          <button type="button" role="tab" key={c.key} aria-selected={cat === i} class={cat === i ? 'active' : ''} onClick={() => setCat(i)} title={t(c.key)} aria-label={t(c.key)}>
            {c.icon}
          </button>
        ))}
      </div>
      <div class="emoji-label">{cat === -1 ? t('emoji.recent') : t(CATEGORIES[cat].key)}</div>
      <div class="emoji-grid">
        {list.map((e) => (
          <button type="button" key={e} class="emoji" onClick={() => pick(e)} aria-label={e}>
            {e}
          </button>
        ))}
      </div>
    </div>
  );
}
