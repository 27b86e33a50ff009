export const version = "0123abcd";
