export const answer = 42;
console.log("push test app", answer);
