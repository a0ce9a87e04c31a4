() => {
  const rows = document.querySelectorAll('#chatbot .user-row');
  const last = rows[rows.length - 1];
  if (last) last.scrollIntoView({block: 'start'});
}
