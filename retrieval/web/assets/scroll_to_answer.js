() => {
  // After an answer: fold the options away on a phone (CSS: body.asked), then bring the answer
  // into view. An emergency or urgent card goes to the top of the screen, so the whole card is
  // seen at once; any other answer lands on its question, so the reply reads from the start.
  document.body.classList.add('asked');
  document.body.classList.remove('show-options');
  const land = () => {
    const chat = document.querySelector('#chatbot');
    if (!chat) return;
    const users = chat.querySelectorAll('.user-row');
    const bots = chat.querySelectorAll('.bot-row');
    const bot = bots[bots.length - 1];
    const card = bot ? bot.querySelector('.care-card') : null;
    const target = card || users[users.length - 1];
    if (target) target.scrollIntoView({block: 'start'});
  };
  requestAnimationFrame(() => requestAnimationFrame(land));  // after the layout change above
}
