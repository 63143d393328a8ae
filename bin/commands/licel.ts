import type { Command } from '../command.js';
import { notYetCommand } from './not-yet.js';

export const licelCommand: Command = notYetCommand('licel', 'in progress');
