/** Password policy for people signing in to a system holding citizens' data. */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (password.length < 12) problems.push('at least 12 characters');
  if (password.length > 256) problems.push('at most 256 characters');
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) problems.push('at least three of: lower case, upper case, digits, symbols');
  if (password.toLowerCase().includes(username.toLowerCase())) problems.push('must not contain the username');
  return problems;
}
